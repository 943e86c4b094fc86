/**
 * The saga's own message types — deadlines and operators' actions — which the engine delivers itself and which never
 * travel through the broker: a definition does not subscribe to them, and no service publishes them.
 */
const local = new Set<string>();

export function markLocal(type: string): void {
  local.add(type);
}

export function isLocalEvent(type: string): boolean {
  return local.has(type);
}
