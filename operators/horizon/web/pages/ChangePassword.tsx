/**
 * The signed-in user's own password change (Keystone's /v3/users/{id}/password, as Horizon's Settings page):
 * the current password is the proof; Keystone's refusals (a wrong current password, one used lately, a locked
 * account) are shown as it words them. A change ends every token of the user, this session's too, so the user
 * signs in again with the new one.
 */
import { useState } from 'react';
import { Button, Form, FormGroup, TextInput } from '@patternfly/react-core';
import { session } from '../api';
import { FormDialog } from '../components';

function PasswordDialog({ onClose, onChanged }: { onClose: () => void; onChanged: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const change = async () => {
    if (next !== again) throw new Error('The new password and its confirmation differ.');
    await session.changePassword(current, next);
    onChanged();
    return 'keep-open'; // the page leaves for the sign-in form
  };
  const field = (id: string, label: string, value: string, set: (v: string) => void, autoComplete: string) => (
    <FormGroup label={label} isRequired fieldId={id}>
      <TextInput id={id} type="password" value={value} onChange={(_e, v) => set(v)} autoComplete={autoComplete} />
    </FormGroup>
  );
  return (
    <FormDialog title="Change password" submitLabel="Change password" isDisabled={!current || !next || !again} onClose={onClose} onSubmit={change}>
      <Form onSubmit={(e) => e.preventDefault()}>
        {field('password-current', 'Current password', current, setCurrent, 'current-password')}
        {field('password-new', 'New password', next, setNext, 'new-password')}
        {field('password-again', 'New password again', again, setAgain, 'new-password')}
      </Form>
    </FormDialog>
  );
}

export function ChangePassword({ onChanged }: { onChanged: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)}>
        Change password
      </Button>
      {open && <PasswordDialog onClose={() => setOpen(false)} onChanged={onChanged} />}
    </>
  );
}
