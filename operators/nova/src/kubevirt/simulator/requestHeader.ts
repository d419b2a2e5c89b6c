/**
 * How an extension API server (virt-api among them) knows that a request's X-Remote-User comes from the API
 * server: kube-system's extension-apiserver-authentication ConfigMap names the CA of the front proxy's client
 * certificate and the names it may carry; a request is believed only over a connection whose client certificate
 * that CA signed, with one of those names (k8s.io/apiserver's request-header authenticator). Decisions only.
 */
import { X509Certificate } from 'node:crypto';

export interface RequestHeaderConfig {
  cas: X509Certificate[];
  /** Common names a front proxy's certificate may carry; empty: any the CA signed. */
  allowedNames: string[];
  /** The stand-in acts as the user alone; groups (requestheader-group-headers) change nothing it decides. */
  usernameHeaders: string[];
}

const list = (text: string | undefined): string[] => {
  try {
    const v: unknown = text ? JSON.parse(text) : [];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
};

/** The request-header settings of the ConfigMap's data, or undefined when it names no CA. */
export function requestHeaderConfigOf(data: Record<string, string> | undefined): RequestHeaderConfig | undefined {
  const pems = data?.['requestheader-client-ca-file']?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const cas = pems.flatMap((p) => {
    try {
      return [new X509Certificate(p)];
    } catch {
      return [];
    }
  });
  if (!cas.length) return undefined;
  return { cas, allowedNames: list(data?.['requestheader-allowed-names']), usernameHeaders: list(data?.['requestheader-username-headers']) };
}

const commonNameOf = (cert: X509Certificate) => /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];

/** Why a connection's client certificate may not tell the user, or undefined when it may. */
export function proxyRefusal(peer: X509Certificate | undefined, config: RequestHeaderConfig | undefined, at = new Date()): string | undefined {
  if (!config) return 'no requestheader client CA is published (kube-system/extension-apiserver-authentication)';
  if (!peer) return 'no client certificate was presented';
  if (!config.cas.some((ca) => peer.checkIssued(ca) && peer.verify(ca.publicKey))) return 'the client certificate is not signed by the requestheader client CA';
  if (at < new Date(peer.validFrom) || at > new Date(peer.validTo)) return 'the client certificate is not valid now';
  const cn = commonNameOf(peer);
  if (config.allowedNames.length && !config.allowedNames.includes(cn ?? '')) return `the client certificate's common name ${JSON.stringify(cn ?? '')} is not among the requestheader allowed names`;
  return undefined;
}
