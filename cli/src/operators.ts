/** The operators `stratus up` runs, each as its own process, as the chart runs each as a Deployment. */
export interface OperatorProcess {
  name: string;
  /** The entry point, relative to the repository root. */
  main: string;
  /** The OpenStack API it serves, behind the gateway at `prefix`, on the port given in `portEnv`. */
  api?: { prefix: string; portEnv: string; defaultPort: number };
  /** The catalog entry `stratus up` registers for the API (Keystone's own comes with its bootstrap). */
  catalog?: { service: string; type: string; description: string };
}

export const OPERATORS: OperatorProcess[] = [
  { name: 'keystone', main: 'operators/keystone/dist/src/main.js', api: { prefix: '/identity', portEnv: 'KEYSTONE_API_PORT', defaultPort: 5000 } },
  {
    name: 'glance',
    main: 'operators/glance/dist/src/main.js',
    api: { prefix: '/image', portEnv: 'GLANCE_API_PORT', defaultPort: 9292 },
    catalog: { service: 'glance', type: 'image', description: 'Glance Image Service' },
  },
];
