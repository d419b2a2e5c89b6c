/** Finds the Stratus resources (every kind in the `stratus` category) in a namespace, via discovery. */
import type { KubeClient, ResourceRef } from '@stratus/runtime';

interface ApiResource {
  name: string;
  namespaced: boolean;
  categories?: string[];
}

/** The namespaced kinds in the `stratus` category, from the server's discovery documents. */
export async function stratusKinds(client: KubeClient): Promise<ResourceRef[]> {
  const groups = (await client.request<{ groups: Array<{ preferredVersion: { groupVersion: string } }> }>('GET', '/apis')).groups;
  const lists = await Promise.all(
    groups.map((g) => client.request<{ groupVersion: string; resources: ApiResource[] }>('GET', `/apis/${g.preferredVersion.groupVersion}`)),
  );
  return lists.flatMap((l) => {
    const [group, version] = l.groupVersion.split('/');
    return l.resources
      .filter((r) => r.namespaced && !r.name.includes('/') && r.categories?.includes('stratus'))
      .map((r) => ({ group, version, plural: r.name, namespaced: true }));
  });
}

/** `plural/name` of every Stratus resource left in the namespace. */
export async function stratusResourcesIn(client: KubeClient, namespace: string): Promise<string[]> {
  const kinds = await stratusKinds(client);
  const lists = await Promise.all(kinds.map(async (k) => ({ k, items: (await client.list(k, namespace)).items })));
  return lists.flatMap(({ k, items }) => items.map((i) => `${k.plural}/${i.metadata?.name}`)).sort();
}
