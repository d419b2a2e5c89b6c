/** A refusal virt-api's stand-in answers with: the HTTP code and KubeVirt's message. */
export class Refusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
