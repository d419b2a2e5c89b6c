/** The operators `stratus up` runs, each as its own process, as the chart runs each as a Deployment. */
export interface OperatorProcess {
  name: string;
  /** The entry point, relative to the repository root. */
  main: string;
  /** The OpenStack API it serves, behind the gateway at `prefix`, on the port given in `portEnv`. */
  api?: { prefix: string; portEnv: string; defaultPort: number };
}

export const OPERATORS: OperatorProcess[] = [
  { name: 'keystone', main: 'operators/keystone/dist/src/main.js', api: { prefix: '/identity', portEnv: 'KEYSTONE_API_PORT', defaultPort: 5000 } },
];
