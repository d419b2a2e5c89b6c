/** Images the project can use, live; upload from the browser straight into the image store, with progress. */
import { useState } from 'react';
import { FileUpload, Form, FormGroup, FormSelect, FormSelectOption, Progress, TextInput } from '@patternfly/react-core';
import { os, osMaybe, uploadImageData, type Session } from '../api';
import { ConfirmAction, FormDialog, ListPage, StatusLabel, bytes } from '../components';

interface Image {
  id: string;
  name?: string;
  status: string;
  visibility: string;
  disk_format?: string;
  size?: number | null;
  owner?: string;
}

const loadImages = async (): Promise<Image[]> => (await os('image', 'GET', '/v2/images?limit=1000')).images;
const loadImage = (id: string) => osMaybe<Image>('image', `/v2/images/${encodeURIComponent(id)}`);

function CreateImage({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [format, setFormat] = useState('raw');
  const [file, setFile] = useState<File>();
  const [sent, setSent] = useState<{ sent: number; total: number }>();
  const create = async () => {
    const image = await os('image', 'POST', '/v2/images', { name, disk_format: format, container_format: 'bare', visibility: 'private' });
    setSent({ sent: 0, total: file!.size });
    await uploadImageData(image.id, file!, (done, total) => setSent({ sent: done, total }));
  };
  return (
    <FormDialog title="Create image" submitLabel="Create image" variant="medium" isDisabled={!name || !file} onClose={onClose} onSubmit={create}>
      <Form onSubmit={(e) => e.preventDefault()}>
        <FormGroup label="Image name" isRequired fieldId="image-name">
          <TextInput id="image-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
        <FormGroup label="Disk format" fieldId="image-format">
          <FormSelect id="image-format" value={format} onChange={(_e, v) => setFormat(v)}>
            {['raw', 'qcow2', 'vmdk', 'vdi', 'vhd', 'iso'].map((f) => (
              <FormSelectOption key={f} value={f} label={f} />
            ))}
          </FormSelect>
        </FormGroup>
        <FormGroup label="Image file" isRequired fieldId="image-file">
          <FileUpload id="image-file" filename={file?.name ?? ''} filenamePlaceholder="Drag a file here or browse" browseButtonText="Browse" hideDefaultPreview onFileInputChange={(_e, f) => setFile(f)} onClearClick={() => setFile(undefined)} />
        </FormGroup>
        {sent && <Progress value={sent.total ? (sent.sent / sent.total) * 100 : 0} title="Uploading" label={`${bytes(sent.sent)} of ${bytes(sent.total)}`} data-testid="upload-progress" aria-label="Upload progress" />}
      </Form>
    </FormDialog>
  );
}

export function Images({ session }: { session: Session }) {
  return (
    <ListPage<Image>
      title="Images"
      kind="images"
      load={loadImages}
      loadOne={loadImage}
      columns={[
        { title: 'Name', cell: (i) => i.name || i.id },
        { title: 'Status', cell: (i) => <StatusLabel status={i.status} /> },
        { title: 'Visibility', cell: (i) => i.visibility },
        { title: 'Format', cell: (i) => i.disk_format ?? '—' },
        { title: 'Size', cell: (i) => bytes(i.size) },
      ]}
      actions={(i) => (i.owner === session.project?.id || session.admin) && <ConfirmAction label="Delete" question={`Delete the image ${i.name || i.id}? Its data goes too.`} onConfirm={() => os('image', 'DELETE', `/v2/images/${encodeURIComponent(i.id)}`)} />}
      createLabel="Create image"
      create={(close) => <CreateImage onClose={close} />}
    />
  );
}
