/** One server: its overview, console log, browser console, Kubernetes events and its object as YAML. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Button, CodeBlock, CodeBlockCode, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, PageSection, Tab, TabTitleText, Tabs } from '@patternfly/react-core';
import { kube, os, type KubeEvent } from '../api';
import { ErrorAlert, PageTitle, ResourceTable, StatusLabel } from '../components';
import { LiveOrder, useLiveChanges } from '../live';
import { navigate } from '../router';
import { ActionDialog, SERVER_ACTIONS, addressesOf, loadServer, type ActionDef, type Server } from './serverActions';

function Field({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <DescriptionListGroup>
      <DescriptionListTerm>{term}</DescriptionListTerm>
      <DescriptionListDescription>{children}</DescriptionListDescription>
    </DescriptionListGroup>
  );
}

function LogTab({ id, version }: { id: string; version: number }) {
  const [log, setLog] = useState<string>();
  const [error, setError] = useState<string>();
  const load = useCallback(() => {
    os('compute', 'POST', `/servers/${encodeURIComponent(id)}/action`, { 'os-getConsoleOutput': { length: 200 } }).then(
      (r) => (setLog(r.output), setError(undefined)),
      (e: Error) => setError(e.message),
    );
  }, [id]);
  useEffect(load, [load, version]);
  return (
    <>
      <Button variant="secondary" onClick={load} style={{ marginBottom: 8 }}>
        Refresh
      </Button>
      <ErrorAlert error={error} />
      <CodeBlock>
        <CodeBlockCode data-testid="console-log">{log ?? ''}</CodeBlockCode>
      </CodeBlock>
    </>
  );
}

function ConsoleTab({ server }: { server: Server }) {
  const [url, setUrl] = useState<string>();
  const [error, setError] = useState<string>();
  const open = useCallback(() => {
    setUrl(undefined);
    os('compute', 'POST', `/servers/${encodeURIComponent(server.id)}/remote-consoles`, { remote_console: { protocol: 'vnc', type: 'novnc' } }, { 'OpenStack-API-Version': 'compute 2.6' }).then(
      (r) => (setUrl(r.remote_console.url), setError(undefined)),
      (e: Error) => setError(e.message),
    );
  }, [server.id]);
  useEffect(open, [open]);
  return (
    <>
      <Button variant="secondary" onClick={open} style={{ marginBottom: 8 }}>
        Reconnect
      </Button>
      <ErrorAlert error={error} />
      {url && <iframe title={`Console of ${server.name}`} src={url} style={{ width: '100%', height: 480, border: 0 }} data-testid="console-frame" />}
    </>
  );
}

function EventsTab({ id, version }: { id: string; version: number }) {
  const [events, setEvents] = useState<Array<KubeEvent & { id: string }>>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    kube.events('servers', id).then(
      (list) => setEvents(list.map((e, i) => ({ ...e, id: String(i) }))),
      (e: Error) => setError(e.message),
    );
  }, [id, version]);
  return (
    <>
      <ErrorAlert error={error} />
      <ResourceTable
        label="Events"
        rows={events}
        columns={[
          { title: 'Type', cell: (e) => e.type },
          { title: 'Reason', cell: (e) => e.reason },
          { title: 'Message', cell: (e) => e.message },
          { title: 'Count', cell: (e) => e.count },
          { title: 'From', cell: (e) => e.source ?? '—' },
          { title: 'Last seen', cell: (e) => e.lastSeen ?? '—' },
        ]}
      />
    </>
  );
}

function YamlTab({ id, version }: { id: string; version: number }) {
  const [yaml, setYaml] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    kube.yaml('servers', id).then(setYaml, (e: Error) => setError(e.message));
  }, [id, version]);
  return (
    <>
      <ErrorAlert error={error} />
      <CodeBlock>
        <CodeBlockCode data-testid="yaml">{yaml ?? ''}</CodeBlockCode>
      </CodeBlock>
    </>
  );
}

export function InstanceDetail({ id }: { id: string }) {
  const [server, setServer] = useState<Server | null>();
  const [error, setError] = useState<string>();
  const [tab, setTab] = useState<string | number>('overview');
  const [version, setVersion] = useState(0);
  const [dialog, setDialog] = useState<ActionDef['dialog']>();
  const shown = useRef<Server | null | undefined>(undefined);
  shown.current = server;
  const [order] = useState(() => new LiveOrder());
  const load = useCallback(
    (since: number, retries: number[] = []): Promise<void> =>
      loadServer(id).then(
        (s) => {
          // An answer overtaken by a later change (the deletion above all) is not shown. The API may answer from
          // a watch a moment behind the dashboard's: nothing new is asked again, briefly.
          if (!order.current(id, since)) return;
          if (s && retries.length && JSON.stringify(s) === JSON.stringify(shown.current)) return void setTimeout(() => void load(since, retries.slice(1)), retries[0]);
          setServer(s ?? null);
        },
        (e: Error) => setError(e.message),
      ),
    [id, order],
  );
  useEffect(() => void load(order.now()), [load, order]);
  useLiveChanges('servers', (c) => {
    if (c.id !== id) return;
    const at = order.changed(id, c.type === 'DELETED');
    if (c.type === 'DELETED') return setServer(null);
    void load(at, [50, 250, 1000]);
    setVersion((v) => v + 1);
  });
  if (server === null)
    return (
      <>
        <PageTitle title="Instance" />
        <PageSection>
          <ErrorAlert title="Gone" error={`No server with ID ${id} could be found: it was deleted, or is not this project's.`} />
        </PageSection>
      </>
    );
  return (
    <>
      <PageTitle
        title={server ? `Instance ${server.name}` : 'Instance'}
        actions={server && SERVER_ACTIONS.filter((a) => a.when(server)).map((a) => (
          <Button
            key={a.title}
            variant={a.dialog === 'delete' ? 'danger' : 'secondary'}
            onClick={() => {
              setError(undefined);
              if (a.dialog) setDialog(a.dialog);
              else a.run!(server).catch((e: Error) => setError(e.message));
            }}
          >
            {a.title}
          </Button>
        ))}
      />
      <PageSection>
        <ErrorAlert error={error} />
        {server && (
          <Tabs activeKey={tab} onSelect={(_e, k) => setTab(k)} aria-label="Instance details" mountOnEnter unmountOnExit>
            <Tab eventKey="overview" title={<TabTitleText>Overview</TabTitleText>}>
              <DescriptionList isHorizontal style={{ marginTop: 16 }}>
                <Field term="Name">{server.name}</Field>
                <Field term="ID">{server.id}</Field>
                <Field term="Status">
                  <StatusLabel status={server.status} />
                </Field>
                <Field term="Task">{server['OS-EXT-STS:task_state'] ?? '—'}</Field>
                <Field term="Flavor">{server.flavor?.original_name ?? '—'}</Field>
                <Field term="IP addresses">{addressesOf(server)}</Field>
                <Field term="Key pair">{server.key_name ?? '—'}</Field>
                <Field term="Volumes">{server['os-extended-volumes:volumes_attached']?.map((v) => v.id).join(', ') || '—'}</Field>
                <Field term="Created">{server.created ?? '—'}</Field>
                {server.fault && <Field term="Fault">{server.fault.message}</Field>}
              </DescriptionList>
            </Tab>
            <Tab eventKey="log" title={<TabTitleText>Log</TabTitleText>}>
              <LogTab id={id} version={version} />
            </Tab>
            <Tab eventKey="console" title={<TabTitleText>Console</TabTitleText>}>
              <ConsoleTab server={server} />
            </Tab>
            <Tab eventKey="events" title={<TabTitleText>Events</TabTitleText>}>
              <EventsTab id={id} version={version} />
            </Tab>
            <Tab eventKey="yaml" title={<TabTitleText>YAML</TabTitleText>}>
              <YamlTab id={id} version={version} />
            </Tab>
          </Tabs>
        )}
      </PageSection>
      {server && dialog && <ActionDialog server={server} dialog={dialog} onClose={() => setDialog(undefined)} onDone={() => dialog === 'delete' && navigate('/instances')} />}
    </>
  );
}
