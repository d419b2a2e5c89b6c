/**
 * A project's quotas (admin): Nova's, Cinder's and Neutron's limits beside what the project uses, as each
 * service counts it; an admin changes some and saves, each service taking its own (-1: unlimited).
 */
import { useEffect, useState } from 'react';
import { ActionGroup, Alert, Button, Form, FormGroup, FormSelect, FormSelectOption, PageSection, TextInput } from '@patternfly/react-core';
import { os } from '../api';
import { ErrorAlert, PageTitle, ResourceTable, useLoaded, type Named } from '../components';
import { QUOTA_FIELDS, changedLimits, fieldId, type QuotaField } from '../../src/shared/quotaEdits';

interface Row extends QuotaField {
  id: string;
  limit: number;
  used: number;
}

/** Each field's limit and use, read from the three services' detailed quota sets. */
async function loadQuotas(project: string): Promise<Row[]> {
  const p = encodeURIComponent(project);
  const [compute, volume, network] = await Promise.all([
    os('compute', 'GET', `/os-quota-sets/${p}/detail`).then((r) => r.quota_set),
    os('block-storage', 'GET', `/os-quota-sets/${p}?usage=True`).then((r) => r.quota_set),
    os('network', 'GET', `/v2.0/quotas/${p}/details`).then((r) => r.quota),
  ]);
  const sets = { compute, 'block-storage': volume, network } as Record<QuotaField['service'], Record<string, { limit: number; in_use?: number; used?: number }>>;
  return QUOTA_FIELDS.map((f) => {
    const q = sets[f.service][f.key];
    return { ...f, id: fieldId(f), limit: q?.limit ?? -1, used: q?.in_use ?? q?.used ?? 0 };
  });
}

const PUT_PATHS: Record<QuotaField['service'], (p: string) => [string, string]> = {
  compute: (p) => [`/os-quota-sets/${p}`, 'quota_set'],
  'block-storage': (p) => [`/os-quota-sets/${p}`, 'quota_set'],
  network: (p) => [`/v2.0/quotas/${p}`, 'quota'],
};

export function Quotas() {
  const projects = useLoaded(async () => (await os('identity', 'GET', '/projects')).projects as Named[]);
  const [project, setProject] = useState('');
  const [rows, setRows] = useState<Row[]>();
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  /** The last save went through (shown once the limits are read back). */
  const [saved, setSaved] = useState(false);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!project) return;
    setRows(undefined);
    loadQuotas(project).then(
      (r) => (setRows(r), setEdits({}), setError(undefined)),
      (e: Error) => setError(e.message),
    );
  }, [project, tick]);
  const save = async () => {
    const current = Object.fromEntries((rows ?? []).map((r) => [r.id, r.limit]));
    const changes = changedLimits(current, edits);
    const p = encodeURIComponent(project);
    for (const [service, limits] of Object.entries(changes) as Array<[QuotaField['service'], Record<string, number>]>) {
      const [path, element] = PUT_PATHS[service](p);
      await os(service, 'PUT', path, { [element]: limits });
    }
  };
  return (
    <>
      <PageTitle title="Quotas" />
      <PageSection>
        <ErrorAlert error={projects.error ?? error} />
        {saved && rows && <Alert variant="success" isInline title="The quotas were saved." data-testid="quota-saved" />}
        <Form onSubmit={(e) => e.preventDefault()}>
          <FormGroup label="Project" fieldId="quota-project">
            <FormSelect id="quota-project" value={project} onChange={(_e, v) => (setSaved(false), setProject(v))}>
              <FormSelectOption value="" label="Choose a project" isPlaceholder />
              {(projects.value ?? []).map((p) => (
                <FormSelectOption key={p.id} value={p.id} label={p.name ?? p.id} />
              ))}
            </FormSelect>
          </FormGroup>
        </Form>
        {project && (
          <>
            <ResourceTable
              label="Quotas"
              rows={rows}
              columns={[
                { title: 'Limit of', cell: (r) => r.label },
                { title: 'In use', cell: (r) => r.used },
                {
                  title: 'Limit (-1: unlimited)',
                  cell: (r) => <TextInput id={`quota-${r.id}`} aria-label={`${r.label} limit`} value={edits[r.id] ?? String(r.limit)} onChange={(_e, v) => (setSaved(false), setEdits((e) => ({ ...e, [r.id]: v })))} />,
                },
              ]}
            />
            <ActionGroup style={{ marginTop: 16 }}>
              <Button
                isLoading={busy}
                isDisabled={busy || !rows || !Object.keys(edits).length}
                onClick={() => {
                  setBusy(true);
                  setError(undefined);
                  save().then(
                    () => (setBusy(false), setSaved(true), setTick((t) => t + 1)),
                    (e: Error) => (setBusy(false), setError(e.message)),
                  );
                }}
              >
                Save quotas
              </Button>
            </ActionGroup>
          </>
        )}
      </PageSection>
    </>
  );
}
