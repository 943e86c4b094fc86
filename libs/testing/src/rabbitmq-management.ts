import { testEnvironment } from './test-environment.js';

/** The broker's management HTTP API, as an operator sees it. */
export class RabbitMqManagement {
  private readonly config = testEnvironment.management();

  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.config.url}/api${path}`, { headers: this.headers() });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return (await res.json()) as T;
  }

  async put(path: string, body: unknown): Promise<void> {
    await this.send('PUT', path, body);
  }

  async post(path: string, body: unknown): Promise<void> {
    await this.send('POST', path, body);
  }

  private async send(method: string, path: string, body: unknown): Promise<void> {
    const res = await fetch(`${this.config.url}/api${path}`, {
      method,
      headers: { ...this.headers(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  }

  async delete(path: string): Promise<void> {
    const res = await fetch(`${this.config.url}/api${path}`, { method: 'DELETE', headers: this.headers() });
    if (!res.ok && res.status !== 404) throw new Error(`DELETE ${path}: ${res.status}`);
  }

  async connections(): Promise<
    { name: string; user: string; vhost: string; client_properties: { connection_name?: string } }[]
  > {
    return this.get('/connections');
  }

  private headers() {
    return { authorization: `Basic ${Buffer.from(`${this.config.user}:${this.config.password}`).toString('base64')}` };
  }
}
