// One place for the version the engine reports; kept in step with package.json by a test.
export const ENGINE_VERSION = '0.1.0';
