/** Pieces every page uses: a resource table, status labels, quota charts, errors as the API said them. */
import { useEffect, useId, useState, type ReactNode } from 'react';
import { useLiveList } from './live';
import { Alert, Bullseye, Button, EmptyState, EmptyStateBody, FormGroup, FormSelect, FormSelectOption, Label, Modal, ModalBody, ModalFooter, ModalHeader, PageSection, Spinner, Title } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';

export function PageTitle({ title, actions }: { title: string; actions?: ReactNode }) {
  return (
    <PageSection>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', gap: 16 }}>
        <Title headingLevel="h1">{title}</Title>
        <div style={{ display: 'flex', gap: 8 }}>{actions}</div>
      </div>
    </PageSection>
  );
}

export function ErrorAlert({ error, title = 'The request was refused' }: { error?: string; title?: string }) {
  if (!error) return null;
  return (
    <Alert variant="danger" isInline title={title} data-testid="api-error">
      {error}
    </Alert>
  );
}

const STATUS_COLOURS: Record<string, 'green' | 'red' | 'orange' | 'blue' | 'grey' | 'purple'> = {
  ACTIVE: 'green', active: 'green', available: 'green', 'in-use': 'blue', UP: 'green', up: 'green', enabled: 'green',
  ERROR: 'red', error: 'red', killed: 'red', DOWN: 'red', down: 'red',
  BUILD: 'blue', queued: 'blue', saving: 'blue', creating: 'blue', 'backing-up': 'blue', restoring: 'blue', importing: 'blue', uploading: 'blue', downloading: 'blue',
  SHUTOFF: 'grey', PAUSED: 'orange', SUSPENDED: 'orange', VERIFY_RESIZE: 'purple', RESIZE: 'purple', REBOOT: 'blue', HARD_REBOOT: 'blue', deleting: 'orange', DELETED: 'grey',
};

export function StatusLabel({ status }: { status?: string }) {
  const s = status ?? 'UNKNOWN';
  return (
    <Label color={STATUS_COLOURS[s] ?? 'grey'} data-status={s}>
      {s}
    </Label>
  );
}

export interface Column<T> {
  title: string;
  cell(row: T): ReactNode;
}

export function ResourceTable<T extends { id: string }>({ label, rows, columns, actions, empty }: { label: string; rows: T[] | undefined; columns: Array<Column<T>>; actions?: (row: T) => ReactNode; empty?: string }) {
  if (!rows)
    return (
      <Bullseye>
        <Spinner aria-label={`Loading ${label}`} />
      </Bullseye>
    );
  if (!rows.length)
    return (
      <EmptyState titleText={`No ${label.toLowerCase()}`} headingLevel="h2">
        <EmptyStateBody>{empty ?? `There are no ${label.toLowerCase()} yet.`}</EmptyStateBody>
      </EmptyState>
    );
  return (
    <Table aria-label={label} variant="compact">
      <Thead>
        <Tr>
          {columns.map((c) => (
            <Th key={c.title}>{c.title}</Th>
          ))}
          {actions && <Th screenReaderText="Actions" />}
        </Tr>
      </Thead>
      <Tbody>
        {rows.map((r) => (
          <Tr key={r.id} data-id={r.id}>
            {columns.map((c) => (
              <Td key={c.title} dataLabel={c.title}>
                {c.cell(r)}
              </Td>
            ))}
            {actions && <Td isActionCell>{actions(r)}</Td>}
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

/** A quota as a ring: used of limit (a limit of -1 is none). Drawn as SVG: a chart library would triple the page's weight for four rings. */
export function QuotaDonut({ title, used, limit, unit = '' }: { title: string; used: number; limit: number; unit?: string }) {
  const unlimited = limit < 0;
  const share = unlimited || limit === 0 ? 0 : Math.min(1, used / limit);
  const r = 52;
  const c = 2 * Math.PI * r;
  const colour = share >= 0.9 ? '#c9190b' : share >= 0.75 ? '#f0ab00' : '#0066cc';
  const text = `${used}${unit} of ${unlimited ? 'unlimited' : `${limit}${unit}`}`;
  return (
    <figure style={{ margin: 0, textAlign: 'center' }} data-quota={title}>
      <svg width="140" height="140" viewBox="0 0 140 140" role="img" aria-label={`${title}: ${text} used`}>
        <circle cx="70" cy="70" r={r} fill="none" stroke="#d2d2d2" strokeWidth="14" />
        <circle cx="70" cy="70" r={r} fill="none" stroke={colour} strokeWidth="14" strokeDasharray={`${share * c} ${c}`} transform="rotate(-90 70 70)" />
        <text x="70" y="76" textAnchor="middle" fontSize="18" fill="#151515">
          {unlimited ? used : `${Math.round(share * 100)}%`}
        </text>
      </svg>
      <figcaption>
        <strong>{title}</strong>
        <br />
        <span>{text}</span>
      </figcaption>
    </figure>
  );
}

/** A button that asks before it acts, and shows the API's refusal if the action fails. */
export function ConfirmAction({ label, question, onConfirm, isDisabled, small }: { label: string; question: ReactNode; onConfirm: () => Promise<unknown>; isDisabled?: boolean; small?: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="danger" size={small ? 'sm' : 'default'} onClick={() => setOpen(true)} isDisabled={isDisabled}>
        {label}
      </Button>
      {open && (
        <FormDialog title={label} submitLabel={label} danger onSubmit={onConfirm} onClose={() => setOpen(false)}>
          {question}
        </FormDialog>
      )}
    </>
  );
}

export const bytes = (n?: number | null) => {
  if (n === undefined || n === null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
};

/**
 * A dialog that asks for something and sends it: the API's refusal is shown in it, as the API said it; it
 * closes when the request succeeds (unless `onSubmit` answers 'keep-open', to show what came back).
 */
export function FormDialog({ title, submitLabel, onSubmit, onClose, isDisabled, danger, variant = 'small', children }: { title: string; submitLabel: string; onSubmit: () => Promise<unknown>; onClose: () => void; isDisabled?: boolean; danger?: boolean; variant?: 'small' | 'medium'; children: ReactNode }) {
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <Modal isOpen onClose={onClose} variant={variant} aria-labelledby={id}>
      <ModalHeader title={title} labelId={id} />
      <ModalBody>
        <ErrorAlert error={error} />
        {children}
      </ModalBody>
      <ModalFooter>
        <Button
          variant={danger ? 'danger' : 'primary'}
          isLoading={busy}
          isDisabled={isDisabled || busy}
          onClick={() => {
            setBusy(true);
            setError(undefined);
            onSubmit().then(
              (r) => (setBusy(false), r !== 'keep-open' && onClose()),
              (e: Error) => (setBusy(false), setError(e.message)),
            );
          }}
        >
          {submitLabel}
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** What the APIs list: an ID, and a name that may be empty. */
export interface Named {
  id: string;
  name?: string | null;
}

/** An object by its name when it has one, else by its ID (also for one no longer there). */
export const nameOf = (all: Named[] | undefined, id: string | null | undefined) => all?.find((x) => x.id === id)?.name || id || '—';

/** A required select of some objects, each shown by `show`. */
export function Choice<T extends Named>({ id, label, value, onChange, items, placeholder, show }: { id: string; label: string; value: string; onChange: (id: string) => void; items: T[] | undefined; placeholder: string; show: (x: T) => string }) {
  return (
    <FormGroup label={label} isRequired fieldId={id}>
      <FormSelect id={id} value={value} onChange={(_e, v) => onChange(v)}>
        <FormSelectOption value="" label={placeholder} isPlaceholder />
        {(items ?? []).map((x) => (
          <FormSelectOption key={x.id} value={x.id} label={show(x)} />
        ))}
      </FormSelect>
    </FormGroup>
  );
}

/** A select of fixed options, each [value, label]. */
export function Options({ id, label, value, onChange, options }: { id: string; label: string; value: string; onChange: (value: string) => void; options: Array<[string, string]> }) {
  return (
    <FormGroup label={label} fieldId={id}>
      <FormSelect id={id} value={value} onChange={(_e, v) => onChange(v)}>
        {options.map(([v, text]) => (
          <FormSelectOption key={v} value={v} label={text} />
        ))}
      </FormSelect>
    </FormGroup>
  );
}

/** What a dialog offers to choose from, read once when it opens: the value, or the API's refusal. */
export function useLoaded<T>(load: () => Promise<T>): { value?: T; error?: string } {
  const [state, setState] = useState<{ value?: T; error?: string }>({});
  useEffect(() => {
    load().then(
      (value) => setState({ value }),
      (e: Error) => setState({ error: e.message }),
    );
    // Read once per dialog: `load` is a new function on every render.
  }, []);
  return state;
}

/** A page listing one kind live, with a dialog to make one; `columns` may read every row (a row naming another). */
export function ListPage<T extends { id: string }>(o: { title: string; kind: string; load: () => Promise<T[]>; loadOne: (id: string) => Promise<T | undefined>; columns: Array<Column<T>> | ((rows: T[] | undefined) => Array<Column<T>>); actions?: (row: T) => ReactNode; createLabel?: string; create?: (close: () => void) => ReactNode }) {
  const list = useLiveList<T>(o.kind, o.load, o.loadOne);
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageTitle title={o.title} actions={o.createLabel && <Button onClick={() => setCreating(true)}>{o.createLabel}</Button>} />
      <PageSection>
        <ErrorAlert error={list.error} />
        <ResourceTable label={o.title} rows={list.items} columns={typeof o.columns === 'function' ? o.columns(list.items) : o.columns} actions={o.actions} />
      </PageSection>
      {creating && o.create?.(() => setCreating(false))}
    </>
  );
}
