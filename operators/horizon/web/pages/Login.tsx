import { useState } from 'react';
import { ActionGroup, Alert, Button, Form, FormGroup, LoginPage, TextInput } from '@patternfly/react-core';
import { session, type Session } from '../api';

export function Login({ onSignedIn, notice }: { onSignedIn: (s: Session) => void; notice?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [domain, setDomain] = useState('Default');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <LoginPage loginTitle="Sign in to Stratus" loginSubtitle="With your OpenStack user (Keystone)">
      <Form
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          session.signIn(username, password, domain).then(
            (s) => onSignedIn(s),
            (err: Error) => (setError(err.message), setBusy(false)),
          );
        }}
      >
        {notice && !error && <Alert variant="info" isInline title={notice} data-testid="login-notice" />}
        {error && <Alert variant="danger" isInline title={error} data-testid="login-error" />}
        <FormGroup label="User name" isRequired fieldId="username">
          <TextInput id="username" name="username" isRequired value={username} onChange={(_e, v) => setUsername(v)} autoComplete="username" />
        </FormGroup>
        <FormGroup label="Password" isRequired fieldId="password">
          <TextInput id="password" name="password" type="password" isRequired value={password} onChange={(_e, v) => setPassword(v)} autoComplete="current-password" />
        </FormGroup>
        <FormGroup label="Domain" fieldId="domain">
          <TextInput id="domain" name="domain" value={domain} onChange={(_e, v) => setDomain(v)} />
        </FormGroup>
        <ActionGroup>
          <Button type="submit" variant="primary" isBlock isLoading={busy}>
            Sign in
          </Button>
        </ActionGroup>
      </Form>
    </LoginPage>
  );
}
