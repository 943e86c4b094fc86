/** Injection token of the services the console reaches (`CONSOLE_SERVICE_URLS`, parsed). */
export const CONSOLE_SERVICES = Symbol('CONSOLE_SERVICES');
