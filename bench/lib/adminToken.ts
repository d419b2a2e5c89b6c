/** The admin's project-scoped token on a cloud a benchmark started, signed in with the password clouds.yaml has. */
import type { RunningCloud } from '@stratus/cli';

export async function adminToken(cloud: RunningCloud): Promise<string> {
  const { authUrl, password } = cloud.admin();
  const res = await fetch(`${authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }),
  });
  const token = res.headers.get('x-subject-token');
  if (!res.ok || !token) throw new Error(`the admin's sign-in was refused: ${res.status} ${await res.text()}`);
  return token;
}
