/** Launch an instance: details, source (an image or a volume), flavor, networks, key pair and user data. */
import { useEffect, useState } from 'react';
import { Alert, Checkbox, Form, FormGroup, FormSelect, FormSelectOption, Modal, ModalVariant, TextArea, TextInput, Wizard, WizardHeader, WizardStep } from '@patternfly/react-core';
import { os } from '../api';

interface Choices {
  images: Array<{ id: string; name: string }>;
  volumes: Array<{ id: string; name: string }>;
  flavors: Array<{ id: string; name: string; vcpus: number; ram: number; disk: number }>;
  networks: Array<{ id: string; name: string }>;
  keypairs: string[];
}

const utf8Base64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

export function LaunchWizard({ onClose, onLaunched }: { onClose: () => void; onLaunched: (id: string) => void }) {
  const [c, setC] = useState<Choices>({ images: [], volumes: [], flavors: [], networks: [], keypairs: [] });
  const [name, setName] = useState('');
  const [source, setSource] = useState<'image' | 'volume'>('image');
  const [image, setImage] = useState('');
  const [volume, setVolume] = useState('');
  const [flavor, setFlavor] = useState('');
  const [networks, setNetworks] = useState<string[]>([]);
  const [keypair, setKeypair] = useState('');
  const [userData, setUserData] = useState('');
  const [error, setError] = useState<string>();
  useEffect(() => {
    const quiet = <T,>(p: Promise<T>, fallback: T) => p.catch(() => fallback);
    (async () => {
      const [images, flavors, keypairs, networks, volumes] = await Promise.all([
        os('image', 'GET', '/v2/images?status=active&limit=1000').then((r) => r.images.map((i: { id: string; name?: string }) => ({ id: i.id, name: i.name || i.id }))),
        os('compute', 'GET', '/flavors/detail').then((r) => r.flavors),
        os('compute', 'GET', '/os-keypairs').then((r) => r.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name)),
        quiet(os('network', 'GET', '/v2.0/networks').then((r) => r.networks.filter((n: { 'router:external'?: boolean }) => !n['router:external']).map((n: { id: string; name: string }) => ({ id: n.id, name: n.name || n.id }))), []),
        quiet(os('block-storage', 'GET', '/volumes/detail?status=available').then((r) => r.volumes.map((v: { id: string; name?: string }) => ({ id: v.id, name: v.name || v.id }))), []),
      ]);
      setC({ images, flavors, keypairs, networks, volumes });
    })().catch((e: Error) => setError(e.message));
  }, []);

  const launch = async () => {
    setError(undefined);
    const server: Record<string, unknown> = { name, flavorRef: flavor };
    if (source === 'image') server.imageRef = image;
    else server.block_device_mapping_v2 = [{ boot_index: 0, uuid: volume, source_type: 'volume', destination_type: 'volume', delete_on_termination: false }];
    if (networks.length) server.networks = networks.map((uuid) => ({ uuid }));
    if (keypair) server.key_name = keypair;
    if (userData) server.user_data = utf8Base64(userData);
    try {
      const r = await os('compute', 'POST', '/servers', { server });
      onLaunched(r.server.id);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const detailsValid = !!name.trim();
  const sourceValid = source === 'image' ? !!image : !!volume;
  return (
    <Modal isOpen onEscapePress={onClose} variant={ModalVariant.large} aria-label="Launch instance">
      <Wizard header={<WizardHeader title="Launch instance" onClose={onClose} closeButtonAriaLabel="Close the launch wizard" />} onClose={onClose} onSave={launch} height={520}>
        <WizardStep name="Details" id="launch-details" footer={{ isNextDisabled: !detailsValid }}>
          <Form onSubmit={(e) => e.preventDefault()}>
            <FormGroup label="Instance name" isRequired fieldId="launch-name">
              <TextInput id="launch-name" isRequired value={name} onChange={(_e, v) => setName(v)} />
            </FormGroup>
          </Form>
        </WizardStep>
        <WizardStep name="Source" id="launch-source" footer={{ isNextDisabled: !sourceValid }}>
          <Form onSubmit={(e) => e.preventDefault()}>
            <FormGroup label="Boot source" fieldId="launch-source-kind">
              <FormSelect id="launch-source-kind" value={source} onChange={(_e, v) => setSource(v as 'image' | 'volume')}>
                <FormSelectOption value="image" label="Image" />
                <FormSelectOption value="volume" label="Volume" isDisabled={!c.volumes.length} />
              </FormSelect>
            </FormGroup>
            {source === 'image' ? (
              <FormGroup label="Image" isRequired fieldId="launch-image">
                <FormSelect id="launch-image" value={image} onChange={(_e, v) => setImage(v)}>
                  <FormSelectOption value="" label="Choose an image" isPlaceholder />
                  {c.images.map((i) => (
                    <FormSelectOption key={i.id} value={i.id} label={i.name} />
                  ))}
                </FormSelect>
              </FormGroup>
            ) : (
              <FormGroup label="Volume" isRequired fieldId="launch-volume">
                <FormSelect id="launch-volume" value={volume} onChange={(_e, v) => setVolume(v)}>
                  <FormSelectOption value="" label="Choose a volume" isPlaceholder />
                  {c.volumes.map((v) => (
                    <FormSelectOption key={v.id} value={v.id} label={v.name} />
                  ))}
                </FormSelect>
              </FormGroup>
            )}
          </Form>
        </WizardStep>
        <WizardStep name="Flavor" id="launch-flavor-step" footer={{ isNextDisabled: !flavor }}>
          <Form onSubmit={(e) => e.preventDefault()}>
            <FormGroup label="Flavor" isRequired fieldId="launch-flavor">
              <FormSelect id="launch-flavor" value={flavor} onChange={(_e, v) => setFlavor(v)}>
                <FormSelectOption value="" label="Choose a flavor" isPlaceholder />
                {c.flavors.map((f) => (
                  <FormSelectOption key={f.id} value={f.id} label={`${f.name} (${f.vcpus} vCPU, ${f.ram} MiB RAM, ${f.disk} GiB disk)`} />
                ))}
              </FormSelect>
            </FormGroup>
          </Form>
        </WizardStep>
        <WizardStep name="Networks" id="launch-networks">
          {c.networks.length ? (
            c.networks.map((n) => <Checkbox key={n.id} id={`net-${n.id}`} label={n.name} isChecked={networks.includes(n.id)} onChange={(_e, on) => setNetworks((l) => (on ? [...l, n.id] : l.filter((x) => x !== n.id)))} />)
          ) : (
            <p>No networks to choose: the server gets the project's default networking.</p>
          )}
        </WizardStep>
        <WizardStep name="Key pair" id="launch-keypair">
          <Form onSubmit={(e) => e.preventDefault()}>
            <FormGroup label="Key pair" fieldId="launch-keypair-name">
              <FormSelect id="launch-keypair-name" value={keypair} onChange={(_e, v) => setKeypair(v)}>
                <FormSelectOption value="" label="None" />
                {c.keypairs.map((k) => (
                  <FormSelectOption key={k} value={k} label={k} />
                ))}
              </FormSelect>
            </FormGroup>
          </Form>
        </WizardStep>
        <WizardStep name="Configuration" id="launch-config" footer={{ nextButtonText: 'Launch' }}>
          <Form onSubmit={(e) => e.preventDefault()}>
            {error && <Alert variant="danger" isInline title={error} data-testid="api-error" />}
            <FormGroup label="User data (cloud-init)" fieldId="launch-user-data">
              <TextArea id="launch-user-data" value={userData} onChange={(_e, v) => setUserData(v)} rows={8} resizeOrientation="vertical" />
            </FormGroup>
          </Form>
        </WizardStep>
      </Wizard>
    </Modal>
  );
}
