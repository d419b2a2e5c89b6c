/** The admin's OpenStack credentials for this machine's cloud: a clouds.yaml and an openrc, both mode 600. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** The admin password: made once, then kept in the data directory so `make up` can resume. */
export function adminPassword(dataDir: string): string {
  const file = join(dataDir, 'admin-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return password;
}

export function writeOpenStackCredentials(dataDir: string, identityUrl: string, password: string, region = 'RegionOne') {
  const auth = { auth_url: identityUrl, username: 'admin', password, project_name: 'admin', user_domain_name: 'Default', project_domain_name: 'Default' };
  const cloudsYaml = join(dataDir, 'clouds.yaml');
  writeFileSync(cloudsYaml, stringify({ clouds: { stratus: { auth, region_name: region, identity_api_version: 3, interface: 'public' } } }), { mode: 0o600 });
  const openrc = join(dataDir, 'openrc');
  const env = {
    OS_AUTH_URL: identityUrl,
    OS_USERNAME: 'admin',
    OS_PASSWORD: password,
    OS_PROJECT_NAME: 'admin',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    OS_REGION_NAME: region,
    OS_IDENTITY_API_VERSION: '3',
    OS_INTERFACE: 'public',
  };
  writeFileSync(openrc, Object.entries(env).map(([k, v]) => `export ${k}='${v}'`).join('\n') + '\n', { mode: 0o600 });
  return { cloudsYaml, openrc };
}
