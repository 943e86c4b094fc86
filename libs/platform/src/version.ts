/** The orderflow release this build belongs to; a unit test holds it equal to package.json's version. */
export const ORDERFLOW_VERSION = '0.1.0';
