/**
 * The CRDs a cluster with KubeVirt and CDI installed has, for the embedded control plane (`stratus up
 * --kubevirt`, the tests, the benchmark): KubeVirt's and CDI's own, verbatim (vendor/kubevirt/), and the
 * VirtualMachineExport CRD derived from KubeVirt's swagger (exportCrd.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { virtualMachineExportCrd } from './exportCrd.js';

export function kubevirtCrds(vendorDir: string): Array<Record<string, any>> {
  const yaml = (file: string) => parseAllDocuments(readFileSync(join(vendorDir, file), 'utf8')).map((d) => d.toJS() as Record<string, any>);
  const swagger = JSON.parse(readFileSync(join(vendorDir, 'kubevirt-swagger.json'), 'utf8'));
  return [...yaml('kubevirt-crds.yaml'), ...yaml('cdi-crds.yaml'), virtualMachineExportCrd(swagger)];
}
