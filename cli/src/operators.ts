/** The operators `stratus up` runs, each as its own process, as the chart runs each as a Deployment. */
export interface OperatorProcess {
  name: string;
  /** The entry point, relative to the repository root. */
  main: string;
}

export const OPERATORS: OperatorProcess[] = [{ name: 'keystone', main: 'operators/keystone/dist/src/main.js' }];
