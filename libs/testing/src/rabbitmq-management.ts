import { testEnvironment } from './test-environment.js';

/**
 * The broker's management HTTP API, as an operator sees it. In a cluster any node answers for all of them, so a
 * node that does not answer (one a test has killed) is passed over for the next.
 */
export class RabbitMqManagement {
  private readonly config = testEnvironment.management();

  async get<T>(path: string): Promise<T> {
    const res = await this.request('GET', path);
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return (await res.json()) as T;
  }

  async put(path: string, body: unknown): Promise<void> {
    await this.send('PUT', path, body);
  }

  async post(path: string, body: unknown): Promise<void> {
    await this.send('POST', path, body);
  }

  /** A POST that answers with JSON (`/queues/<vhost>/<queue>/get`, which peeks at messages). */
  async postForJson<T>(path: string, body: unknown): Promise<T> {
    const res = await this.request('POST', path, body);
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  private async send(method: string, path: string, body: unknown): Promise<void> {
    const res = await this.request(method, path, body);
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  }

  async delete(path: string): Promise<void> {
    const res = await this.request('DELETE', path);
    if (!res.ok && res.status !== 404) throw new Error(`DELETE ${path}: ${res.status}`);
  }

  async connections(): Promise<
    { name: string; user: string; vhost: string; client_properties: { connection_name?: string } }[]
  > {
    return this.get('/connections');
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    let unreachable: unknown;
    for (const url of this.config.urls) {
      try {
        return await fetch(`${url}/api${path}`, {
          method,
          headers: { ...this.headers(), ...(body !== undefined && { 'content-type': 'application/json' }) },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
      } catch (err) {
        unreachable = err;
      }
    }
    throw unreachable instanceof Error ? unreachable : new Error(`no management API answered ${method} ${path}`);
  }

  private headers() {
    return { authorization: `Basic ${Buffer.from(`${this.config.user}:${this.config.password}`).toString('base64')}` };
  }
}
