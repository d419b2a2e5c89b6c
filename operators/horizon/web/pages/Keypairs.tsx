/** The user's key pairs: import a public key, or have one made (its private key is shown once, to save). */
import { useCallback, useEffect, useState } from 'react';
import { Button, ClipboardCopy, Form, FormGroup, PageSection, TextArea, TextInput } from '@patternfly/react-core';
import { os } from '../api';
import { ConfirmAction, ErrorAlert, FormDialog, PageTitle, ResourceTable } from '../components';

interface Keypair {
  id: string;
  name: string;
  fingerprint: string;
  type?: string;
}

function CreateKeypair({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [privateKey, setPrivateKey] = useState<string>();
  // A key made here is shown once, to be saved; the dialog stays open for it.
  const create = async () => {
    if (privateKey) return;
    const r = await os('compute', 'POST', '/os-keypairs', { keypair: { name, ...(publicKey.trim() ? { public_key: publicKey.trim() } : {}) } });
    if (!r.keypair.private_key) return;
    setPrivateKey(r.keypair.private_key);
    return 'keep-open';
  };
  return (
    <FormDialog title="Create key pair" submitLabel={privateKey ? 'Done' : 'Create key pair'} variant="medium" isDisabled={!name} onClose={onClose} onSubmit={create}>
      {privateKey ? (
        <ClipboardCopy isCode isReadOnly variant="expansion" hoverTip="Copy" clickTip="Copied">
          {privateKey}
        </ClipboardCopy>
      ) : (
        <Form onSubmit={(e) => e.preventDefault()}>
          <FormGroup label="Key pair name" isRequired fieldId="keypair-name">
            <TextInput id="keypair-name" value={name} onChange={(_e, v) => setName(v)} />
          </FormGroup>
          <FormGroup label="Public key (empty: one is made for you)" fieldId="keypair-public">
            <TextArea id="keypair-public" value={publicKey} onChange={(_e, v) => setPublicKey(v)} rows={4} />
          </FormGroup>
        </Form>
      )}
    </FormDialog>
  );
}

export function Keypairs() {
  const [items, setItems] = useState<Keypair[]>();
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);
  // Key pairs are the user's own and change only from here: read again after each change made on this page.
  const load = useCallback(() => {
    os('compute', 'GET', '/os-keypairs').then(
      (r) => setItems(r.keypairs.map((k: { keypair: Omit<Keypair, 'id'> }) => ({ ...k.keypair, id: k.keypair.name }))),
      (e: Error) => setError(e.message),
    );
  }, []);
  useEffect(load, [load]);
  return (
    <>
      <PageTitle title="Key pairs" actions={<Button onClick={() => setCreating(true)}>Create key pair</Button>} />
      <PageSection>
        <ErrorAlert error={error} />
        <ResourceTable
          label="Key pairs"
          rows={items}
          columns={[
            { title: 'Name', cell: (k) => k.name },
            { title: 'Type', cell: (k) => k.type ?? 'ssh' },
            { title: 'Fingerprint', cell: (k) => <code>{k.fingerprint}</code> },
          ]}
          actions={(k) => <ConfirmAction label="Delete" question={`Delete the key pair ${k.name}?`} onConfirm={() => os('compute', 'DELETE', `/os-keypairs/${encodeURIComponent(k.name)}`).then(load)} />}
        />
      </PageSection>
      {creating && <CreateKeypair onClose={() => (setCreating(false), load())} />}
    </>
  );
}
