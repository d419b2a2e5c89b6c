/** The field manager the kubevirt-simulator stand-in writes with. */
export const SIMULATOR_FIELD_MANAGER = 'kubevirt-simulator';
