// The Kubernetes manifests, checked without a cluster: every overlay renders, every object is valid for its kind,
// what one object refers to exists, and the rules every orderflow pod keeps (see docs/deployment.md) hold.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  K8S_DIR,
  ManifestValidator,
  ROOT,
  objectName,
  overlayNames,
  renderKustomization,
  exampleSecretsFilledIn,
  imageReferences,
  renderSecrets,
  unpinnedImage,
  type K8sObject,
} from '../../scripts/k8s/manifests.js';
import { TOPOLOGY_FILE, topologyFile } from '../../scripts/k8s/topology.js';

interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: ContainerPort[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  volumeMounts?: { name: string; mountPath: string }[];
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; emptyDir?: object }[];
}
type Deployment = K8sObject & {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
};
const SERVICES = ['order-service', 'payment-service', 'warehouse-service', 'logistics-service', 'saga-orchestrator'];
const SIMULATORS = ['payment-gateway-simulator', 'carrier-simulator'];

const validator = ManifestValidator.load();
const rendered = new Map<string, K8sObject[]>();
let secrets: K8sObject[];

beforeAll(() => {
  // The first run on a machine without kubectl fetches it (scripts/k8s/manifests.ts), hence the long timeout.
  for (const overlay of overlayNames()) {
    rendered.set(overlay, renderKustomization(join(K8S_DIR, 'overlays', overlay)));
  }
  secrets = renderSecrets(exampleSecretsFilledIn());
}, 180_000);

const objectsOf = (overlay: string) => rendered.get(overlay)!;
const ofKind = <T extends K8sObject>(objects: K8sObject[], kind: string) =>
  objects.filter((o) => o.kind === kind) as T[];
const deploymentsOf = (overlay: string) => ofKind<Deployment>(objectsOf(overlay), 'Deployment');
const podContainers = (d: Deployment) => [
  ...(d.spec.template.spec.initContainers ?? []),
  ...d.spec.template.spec.containers,
];

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: object;
}
interface PolicyRule {
  to?: PolicyPeer[];
  from?: PolicyPeer[];
  ports?: { protocol?: string; port?: number | string }[];
}
type NetworkPolicy = K8sObject & {
  spec: { podSelector: LabelSelector; policyTypes: string[]; ingress?: PolicyRule[]; egress?: PolicyRule[] };
};
type ServiceObject = K8sObject & {
  spec: { selector: Record<string, string>; ports: { name?: string; port: number; targetPort?: number | string }[] };
};
type ContainerPort = { name?: string; containerPort: number };

function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  return (
    Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value) &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      if (operator === 'In') return values.includes(labels[key]);
      if (operator === 'NotIn') return !values.includes(labels[key]);
      if (operator === 'Exists') return key in labels;
      return !(key in labels);
    })
  );
}

/**
 * Whether the namespace's policies let a pod labelled `from` open TCP `port` of a pod labelled `to` (both in this
 * namespace): an egress rule of a policy selecting the caller and an ingress rule of one selecting the callee.
 */
function allowed(
  policies: readonly NetworkPolicy[],
  from: Record<string, string>,
  to: { labels: Record<string, string>; port: ContainerPort },
): boolean {
  const peerMatches = (peers: PolicyPeer[] | undefined, labels: Record<string, string>) =>
    peers === undefined ||
    peers.some((peer) => !peer.namespaceSelector && !peer.ipBlock && selects(peer.podSelector ?? {}, labels));
  const portMatches = (rule: PolicyRule) =>
    rule.ports === undefined ||
    rule.ports.some(
      ({ protocol = 'TCP', port }) =>
        protocol === 'TCP' && (port === undefined || port === to.port.containerPort || port === to.port.name),
    );
  const opens = (direction: 'Ingress' | 'Egress', pod: Record<string, string>, peer: Record<string, string>) =>
    policies.some(
      (p) =>
        p.spec.policyTypes.includes(direction) &&
        selects(p.spec.podSelector, pod) &&
        (direction === 'Ingress' ? p.spec.ingress : p.spec.egress)?.some(
          (rule) => peerMatches(direction === 'Ingress' ? rule.from : rule.to, peer) && portMatches(rule),
        ),
    );
  return opens('Egress', from, to.labels) && opens('Ingress', to.labels, from);
}

/** The variables a Deployment's app container reads from ConfigMaps (its envFrom, as the rendered names go). */
function configOf(objects: readonly K8sObject[], d: Deployment): Record<string, string> {
  const configMaps = ofKind<K8sObject & { data?: Record<string, string> }>([...objects], 'ConfigMap');
  const [app] = d.spec.template.spec.containers;
  return Object.assign(
    {},
    ...(app.envFrom ?? []).map((source) => configMaps.find((c) => c.metadata.name === source.configMapRef?.name)?.data),
  ) as Record<string, string>;
}

const httpPort = (d: Deployment): ContainerPort =>
  d.spec.template.spec.containers[0].ports!.find((p) => p.name === 'http')!;

/**
 * Each service the orchestrator's CONSOLE_SERVICE_URLS names that it could not reach: a host that is no Service of
 * the overlay, a port that Service does not have, or a path the NetworkPolicies keep closed.
 */
function consoleProblems(objects: readonly K8sObject[]): string[] {
  const deployments = ofKind<Deployment>([...objects], 'Deployment');
  const services = ofKind<ServiceObject>([...objects], 'Service');
  const policies = ofKind<NetworkPolicy>([...objects], 'NetworkPolicy');
  const orchestrator = deployments.find((d) => d.metadata.name === 'saga-orchestrator')!;
  const config = configOf(objects, orchestrator);
  const value = config.CONSOLE_SERVICE_URLS;
  if (!value) return ['saga-orchestrator: CONSOLE_SERVICE_URLS is not set'];
  const ownPort = config.PORT;
  return value.split(',').flatMap((entry): string[] => {
    const [name, base] = entry.split(/=(.*)/s, 2);
    const url = new URL(base);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') {
      return url.port === ownPort ? [] : [`${name}: ${base} is the orchestrator's loopback, not its port ${ownPort}`];
    }
    const service = services.find((s) => s.metadata.name === url.hostname);
    const servicePort = service?.spec.ports.find((p) => p.port === port);
    if (!service || !servicePort) return [`${name}: ${base} is no Service port of this overlay`];
    const pod = deployments.find((d) =>
      selects({ matchLabels: service.spec.selector }, d.spec.template.metadata.labels),
    );
    const target = servicePort.targetPort ?? servicePort.port;
    const containerPort = pod?.spec.template.spec.containers
      .flatMap((c) => c.ports ?? [])
      .find((p) => p.containerPort === target || p.name === target);
    if (!pod || !containerPort) return [`${name}: no pod serves ${base}`];
    return allowed(policies, orchestrator.spec.template.metadata.labels, {
      labels: pod.spec.template.metadata.labels,
      port: containerPort,
    })
      ? []
      : [`${name}: the NetworkPolicies keep saga-orchestrator from ${base}`];
  });
}

/**
 * Each service's generated topic permissions (deploy/rabbitmq/permissions/<user>.topic.jsonl, what `npm run up`
 * applies), as `<user> <exchange> write=… read=…` lines.
 */
const PERMISSIONS_DIR = join(ROOT, 'deploy/rabbitmq/permissions');
const TOPIC_PERMISSIONS = readdirSync(PERMISSIONS_DIR)
  .filter((name) => name.endsWith('.topic.jsonl'))
  .flatMap((name) =>
    readFileSync(join(PERMISSIONS_DIR, name), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { exchange: string; write: string; read: string })
      .map((p) => `${name.replace('.topic.jsonl', '')} ${p.exchange} write=${p.write} read=${p.read}`),
  )
  .sort();

type TopicPermission = K8sObject & {
  spec: {
    rabbitmqClusterReference: { name: string };
    vhost: string;
    user?: string;
    userReference?: { name: string };
    permissions: { exchange: string; write?: string; read?: string };
  };
};

/**
 * What would keep the TopicPermission objects from granting exactly the generated topic permissions: one missing,
 * stale or extra, or one naming another cluster, vhost, or a user no User object makes.
 */
function topicPermissionProblems(objects: readonly K8sObject[]): string[] {
  const [cluster] = ofKind([...objects], 'RabbitmqCluster');
  const users = new Set(ofKind([...objects], 'User').map((u) => u.metadata.name));
  const permissions = ofKind<TopicPermission>([...objects], 'TopicPermission');
  const problems: string[] = [];
  for (const p of permissions) {
    if (p.spec.rabbitmqClusterReference.name !== cluster?.metadata.name)
      problems.push(`${objectName(p)}: another cluster`);
    if (p.spec.vhost !== 'orderflow') problems.push(`${objectName(p)}: vhost ${p.spec.vhost}`);
    const user = p.spec.userReference?.name ?? '';
    if (!users.has(user)) problems.push(`${objectName(p)}: no User object ${user || '(none)'}`);
  }
  const granted = permissions
    .map(
      ({ spec: { userReference, permissions: q } }) =>
        `${userReference?.name} ${q.exchange} write=${q.write} read=${q.read}`,
    )
    .sort();
  for (const line of TOPIC_PERMISSIONS.filter((l) => !granted.includes(l))) problems.push(`not granted: ${line}`);
  for (const line of granted.filter((l) => !TOPIC_PERMISSIONS.includes(l))) problems.push(`not generated: ${line}`);
  return problems;
}

async function problemsOf(objects: K8sObject[]): Promise<string[]> {
  const problems = await Promise.all(
    objects.map(async (o) => (await validator.validate(o)).map((p) => `${objectName(o)}: ${p}`)),
  );
  return problems.flat();
}

describe('the validator', () => {
  const deployment = (spec: object): K8sObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'broken' },
    spec: {
      selector: { matchLabels: { app: 'broken' } },
      template: { metadata: { labels: { app: 'broken' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
      ...spec,
    },
  });
  const rabbitmqCluster = (spec: object): K8sObject => ({
    apiVersion: 'rabbitmq.com/v1beta1',
    kind: 'RabbitmqCluster',
    metadata: { name: 'broken' },
    spec: { replicas: 3, ...spec },
  });

  it('accepts a well-formed object of a built-in kind and of a custom one', async () => {
    expect(await validator.validate(deployment({ replicas: 3 }))).toEqual([]);
    expect(await validator.validate(rabbitmqCluster({}))).toEqual([]);
  });

  it('reports a field of the wrong type in a built-in kind', async () => {
    expect(await validator.validate(deployment({ replicas: 'three' }))).toEqual(['spec.replicas must be integer']);
  });

  it('reports an unknown field of a built-in kind, at any depth, as kubectl apply would', async () => {
    expect(await validator.validate(deployment({ replica: 3 }))).toEqual([
      'spec must NOT have additional properties: replica',
    ]);
    const misspelt = deployment({}) as Deployment;
    Object.assign(misspelt.spec.template.spec.containers[0], { imagePullPolcy: 'Always' });
    Object.assign(misspelt.spec.template.spec, { volumes: [{ name: 'tmp', emptyDir: { medium: '', size: '1Gi' } }] });
    expect(await validator.validate(misspelt)).toEqual([
      'spec.template.spec.containers.0 must NOT have additional properties: imagePullPolcy',
      'spec.template.spec.volumes.0.emptyDir must NOT have additional properties: size',
    ]);
    // Maps of free keys stay free: labels and a ConfigMap's data.
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', labels: { any: 'x' } },
      data: { A: 'b' },
    };
    expect(await validator.validate(configMap)).toEqual([]);
    expect(await validator.validate({ ...configMap, date: { A: 'b' } })).toEqual([
      '(object) must NOT have additional properties: date',
    ]);
  });

  it('reports an unknown field, a wrong type and a missing required field in a custom resource', async () => {
    expect(await validator.validate(rabbitmqCluster({ replica: 3 }))).toEqual([
      'spec must NOT have additional properties: replica',
    ]);
    expect(await validator.validate(rabbitmqCluster({ replicas: 'three' }))).toEqual(['spec.replicas must be integer']);
    const cluster = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'pg' }, spec: {} };
    expect(await validator.validate(cluster)).toEqual(["spec must have required property 'instances'"]);
  });

  it('reports a kind it has no schema for, and a name Kubernetes refuses', async () => {
    expect(await validator.validate({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } })).toEqual([
      'no schema for example.com/v1/Thing: not a Kubernetes kind nor one of deploy/k8s/crds',
    ]);
    expect(await validator.validate({ ...deployment({}), metadata: { name: 'Not_A_Name' } })).toEqual([
      'metadata.name "Not_A_Name" is not a DNS-1123 subdomain',
    ]);
  });
});

describe.each(overlayNames())('overlays/%s', (overlay) => {
  it('renders objects that are all valid for their kind', async () => {
    expect(objectsOf(overlay).length).toBeGreaterThan(50);
    expect(await problemsOf(objectsOf(overlay))).toEqual([]);
  });

  it('has all five services, each with a Service, ServiceAccount, disruption budget and autoscaler', () => {
    const names = (kind: string) => ofKind(objectsOf(overlay), kind).map((o) => o.metadata.name);
    for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']) {
      expect(names(kind), kind).toEqual(expect.arrayContaining(SERVICES));
    }
    expect(objectsOf(overlay).every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'orderflow')).toBe(true);
  });

  it('gives every pod the restricted security context, resources and a writable /tmp only', () => {
    for (const d of deploymentsOf(overlay)) {
      const pod = d.spec.template.spec;
      expect(pod.automountServiceAccountToken, objectName(d)).toBe(false);
      expect(pod.serviceAccountName, objectName(d)).toBe(d.metadata.name);
      expect(pod.securityContext, objectName(d)).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.volumes, objectName(d)).toEqual([{ name: 'tmp', emptyDir: expect.any(Object) as object }]);
      for (const c of podContainers(d)) {
        const where = `${objectName(d)} ${c.name}`;
        expect(c.securityContext, where).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(Object.keys(c.resources?.requests ?? {}).sort(), where).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources?.limits ?? {}).sort(), where).toEqual(['cpu', 'memory']);
        expect(c.volumeMounts, where).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      }
    }
  });

  it('probes each service on /health/live and /health/ready, and migrates it before it starts', () => {
    for (const d of deploymentsOf(overlay).filter((d) => SERVICES.includes(d.metadata.name))) {
      const [app] = d.spec.template.spec.containers;
      const [migrate] = d.spec.template.spec.initContainers ?? [];
      expect(app.livenessProbe?.httpGet?.path, objectName(d)).toBe('/health/live');
      expect(app.readinessProbe?.httpGet?.path, objectName(d)).toBe('/health/ready');
      expect(migrate?.command, objectName(d)).toEqual(['node', 'main.js', 'migrate']);
      // The migrate command validates the service's whole configuration, so it needs the same environment, and the
      // migration role's URL, which the service itself never holds (ADR 0017).
      const migrationUrl = {
        name: 'MIGRATION_DATABASE_URL',
        valueFrom: { secretKeyRef: { name: `${d.metadata.name}-migrator`, key: 'MIGRATION_DATABASE_URL' } },
      };
      const byName = (env: typeof app.env) => [...(env ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      expect({ image: migrate?.image, env: byName(migrate?.env), envFrom: migrate?.envFrom }, objectName(d)).toEqual({
        image: app.image,
        env: byName([...(app.env ?? []), migrationUrl]),
        envFrom: app.envFrom,
      });
      expect(
        podContainers(d).filter((c) => c !== migrate && JSON.stringify(c).includes('-migrator')),
        objectName(d),
      ).toEqual([]);
    }
  });

  it('lets every service shut down on its own before the kubelet kills it', () => {
    for (const d of deploymentsOf(overlay).filter((d) => SERVICES.includes(d.metadata.name))) {
      const [app] = d.spec.template.spec.containers;
      const config = configOf(objectsOf(overlay), d);
      const preStopSeconds = app.lifecycle?.preStop?.sleep?.seconds ?? 0;
      const shutdownMs = Number(config.SHUTDOWN_TIMEOUT_MS ?? 10_000);
      expect(d.spec.template.spec.terminationGracePeriodSeconds! * 1000, objectName(d)).toBeGreaterThan(
        preStopSeconds * 1000 + shutdownMs,
      );
    }
  });

  it('refers only to ConfigMaps it has and to Secrets that secrets.sh makes, and their keys', () => {
    const made = new Map(secrets.map((s) => [s.metadata.name, Object.keys((s as { data?: object }).data ?? {})]));
    const configMaps = new Set(ofKind(objectsOf(overlay), 'ConfigMap').map((c) => c.metadata.name));
    const missing: string[] = [];
    for (const d of deploymentsOf(overlay)) {
      for (const c of podContainers(d)) {
        for (const source of c.envFrom ?? []) {
          if (source.configMapRef && !configMaps.has(source.configMapRef.name)) missing.push(source.configMapRef.name);
        }
        for (const ref of (c.env ?? []).flatMap((e) => e.valueFrom?.secretKeyRef ?? [])) {
          if (!made.get(ref.name)?.includes(ref.key)) missing.push(`${ref.name}.${ref.key}`);
        }
      }
    }
    // The operators' credential Secrets: CloudNativePG's managed roles and the topology operator's users.
    const roles = ofKind<K8sObject & { spec: { managed: { roles: { passwordSecret: { name: string } }[] } } }>(
      objectsOf(overlay),
      'Cluster',
    ).flatMap((c) => c.spec.managed.roles.map((r) => r.passwordSecret.name));
    const users = ofKind<K8sObject & { spec: { importCredentialsSecret: { name: string } } }>(
      objectsOf(overlay),
      'User',
    ).map((u) => u.spec.importCredentialsSecret.name);
    for (const name of [...roles, ...users]) {
      if (!['password', 'username'].every((key) => made.get(name)?.includes(key))) missing.push(name);
    }
    // CloudNativePG's credentials for the backup bucket (prod).
    const backup = ofKind<K8sObject & { spec: { backup?: { barmanObjectStore?: { s3Credentials?: object } } } }>(
      objectsOf(overlay),
      'Cluster',
    ).flatMap(
      (c) => Object.values(c.spec.backup?.barmanObjectStore?.s3Credentials ?? {}) as { name: string; key: string }[],
    );
    for (const ref of backup) if (!made.get(ref.name)?.includes(ref.key)) missing.push(`${ref.name}.${ref.key}`);
    expect(missing).toEqual([]);
  });

  it('lets the operator console reach every service CONSOLE_SERVICE_URLS names, and no other service another', () => {
    expect(consoleProblems(objectsOf(overlay))).toEqual([]);
    const policies = ofKind<NetworkPolicy>(objectsOf(overlay), 'NetworkPolicy');
    const pods = deploymentsOf(overlay)
      .filter((d) => SERVICES.includes(d.metadata.name))
      .map((d) => ({ name: d.metadata.name, labels: d.spec.template.metadata.labels, port: httpPort(d) }));
    const open = pods.flatMap((from) =>
      pods.filter((to) => to !== from && allowed(policies, from.labels, to)).map((to) => `${from.name} → ${to.name}`),
    );
    expect(open.sort()).toEqual(
      ['order-service', 'payment-service', 'warehouse-service', 'logistics-service']
        .map((to) => `saga-orchestrator → ${to}`)
        .sort(),
    );
  });

  it("grants each service's generated topic permissions with TopicPermission objects, and no other", () => {
    expect(ofKind(objectsOf(overlay), 'TopicPermission')).toHaveLength(TOPIC_PERMISSIONS.length);
    expect(topicPermissionProblems(objectsOf(overlay))).toEqual([]);
  });

  it('backs PostgreSQL up to object storage in production, nightly, with WAL archived between', () => {
    const [cluster] = ofKind<K8sObject & { spec: { backup?: { barmanObjectStore?: { destinationPath?: string } } } }>(
      objectsOf(overlay),
      'Cluster',
    );
    const scheduled = ofKind<K8sObject & { spec: { cluster: { name: string }; method: string } }>(
      objectsOf(overlay),
      'ScheduledBackup',
    );
    if (overlay === 'prod') {
      expect(cluster.spec.backup?.barmanObjectStore?.destinationPath).toMatch(/^s3:\/\//);
      expect(scheduled.map((s) => [s.spec.cluster.name, s.spec.method])).toEqual([
        [cluster.metadata.name, 'barmanObjectStore'],
      ]);
    } else {
      // No object store in dev: archiving would fail and WAL would fill the disk.
      expect({ backup: cluster.spec.backup, scheduled }).toEqual({ backup: undefined, scheduled: [] });
    }
  });

  it('denies all traffic by default', () => {
    const policies = ofKind<K8sObject & { spec: { podSelector: object; policyTypes: string[]; ingress?: unknown } }>(
      objectsOf(overlay),
      'NetworkPolicy',
    );
    expect(policies.find((p) => p.metadata.name === 'default-deny')?.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
  });
});

describe('what is reachable from outside', () => {
  it.each(overlayNames())('%s: no NetworkPolicy opens a port to every peer', (overlay) => {
    const open = ofKind<NetworkPolicy>(objectsOf(overlay), 'NetworkPolicy').flatMap((p) =>
      (p.spec.ingress ?? [])
        .filter((rule) => rule.from === undefined || rule.from.length === 0)
        .map(() => p.metadata.name),
    );
    expect(open).toEqual([]);
  });

  it('prod: the Ingress routes the merchant API and the two webhook receivers, and nothing else', () => {
    type Ingress = K8sObject & {
      spec: {
        tls?: unknown[];
        rules: {
          http: {
            paths: {
              path: string;
              pathType: string;
              backend: { service: { name: string; port: { number: number } } };
            }[];
          };
        }[];
      };
    };
    const ingresses = ofKind<Ingress>(objectsOf('prod'), 'Ingress');
    expect(ingresses).toHaveLength(1);
    expect(ingresses[0].spec.tls?.length).toBeGreaterThan(0);
    const routes = ingresses[0].spec.rules.flatMap((r) =>
      r.http.paths.map((p) => `${p.pathType} ${p.path} → ${p.backend.service.name}:${p.backend.service.port.number}`),
    );
    expect(routes.sort()).toEqual(
      [
        'Prefix /orders → order-service:3000',
        'Exact /gateway/webhooks → payment-service:3001',
        'Exact /carrier/deliveries → logistics-service:3003',
      ].sort(),
    );
    // Each backend is a Service of the overlay with that port.
    const services = ofKind<ServiceObject>(objectsOf('prod'), 'Service');
    for (const route of ingresses[0].spec.rules.flatMap((r) => r.http.paths)) {
      const service = services.find((x) => x.metadata.name === route.backend.service.name);
      expect(service?.spec.ports.map((p) => p.port)).toContain(route.backend.service.port.number);
    }
  });
});

describe('the overlays differ where they should', () => {
  const minReplicas = (overlay: string) =>
    ofKind<K8sObject & { spec: { minReplicas: number; maxReplicas: number } }>(
      objectsOf(overlay),
      'HorizontalPodAutoscaler',
    ).map((h) => h.spec);

  it('dev runs one replica of everything, with the simulators', () => {
    expect(minReplicas('dev').every((s) => s.minReplicas === 1 && s.maxReplicas === 1)).toBe(true);
    expect(deploymentsOf('dev').map((d) => d.metadata.name)).toEqual(expect.arrayContaining(SIMULATORS));
  });

  it('prod runs at least two replicas of each service, the real third parties and no simulator', () => {
    expect(minReplicas('prod').every((s) => s.minReplicas >= 2)).toBe(true);
    const names = objectsOf('prod').map((o) => o.metadata.name);
    expect(names.filter((name) => name.includes('simulator'))).toEqual([]);
    const config = JSON.stringify(ofKind(objectsOf('prod'), 'ConfigMap'));
    expect(config).not.toContain('simulator');
    const cluster = ofKind<K8sObject & { spec: { instances: number } }>(objectsOf('prod'), 'Cluster')[0];
    const broker = ofKind<K8sObject & { spec: { replicas: number } }>(objectsOf('prod'), 'RabbitmqCluster')[0];
    expect([cluster.spec.instances, broker.spec.replicas]).toEqual([3, 3]);
  });
});

describe('image references', () => {
  const unpinned = (references: { path: string; reference: string }[]) =>
    references.flatMap(({ path, reference }) => {
      const problem = unpinnedImage(reference);
      return problem ? [`${path}: ${problem}`] : [];
    });

  it.each(overlayNames())('overlays/%s: every image is pinned to one release', (overlay) => {
    const references = objectsOf(overlay).flatMap((o) =>
      imageReferences(o).map(({ path, reference }) => ({ path: `${objectName(o)} ${path}`, reference })),
    );
    expect(references.map((r) => r.reference)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^rabbitmq:/), expect.stringMatching(/postgresql:/)]),
    );
    expect(unpinned(references)).toEqual([]);
  });

  it('both compose files and the Dockerfile pin every image they pull', () => {
    const references: { path: string; reference: string }[] = [];
    for (const file of ['deploy/docker-compose.yml', 'deploy/docker-compose.infra.yml']) {
      const compose = parse(readFileSync(join(ROOT, file), 'utf8'), { merge: true }) as {
        services: Record<string, { image?: string; build?: unknown }>;
      };
      for (const [name, service] of Object.entries(compose.services)) {
        // An image with `build` is made here from the Dockerfile, not pulled: its tag names the build.
        if (service.image && !service.build) references.push({ path: `${file} ${name}`, reference: service.image });
      }
    }
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    for (const [, reference] of dockerfile.matchAll(/^ARG \w+_IMAGE=(\S+)$/gm)) {
      references.push({ path: 'Dockerfile', reference });
    }
    for (const [, reference] of dockerfile.matchAll(/^FROM (?!\$\{)(\S+)/gm)) {
      references.push({ path: 'Dockerfile', reference });
    }
    expect(references.map((r) => r.reference)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rabbitmq:/),
        expect.stringMatching(/^postgres:/),
        expect.stringMatching(/^node:/),
      ]),
    );
    expect(unpinned(references)).toEqual([]);
  });

  it('tells a reference pinned to one release from a floating one', () => {
    for (const pinned of [
      'rabbitmq:4.1.4-management',
      'postgres:15.13',
      'ghcr.io/cloudnative-pg/postgresql:15.13',
      'curlimages/curl:8.11.1',
      'registry.example.com:5000/orderflow/order-service:0.1.0',
      `busybox@sha256:${'a'.repeat(64)}`,
    ]) {
      expect(unpinnedImage(pinned), pinned).toBeUndefined();
    }
    for (const floating of [
      'rabbitmq:3.13-management',
      'rabbitmq:4-management',
      'postgres:15',
      'ghcr.io/cloudnative-pg/postgresql:15',
      'node:24-bookworm-slim',
      'busybox:latest',
      'busybox',
      'registry.example.com:5000/orderflow/order-service',
    ]) {
      expect(unpinnedImage(floating), floating).toBeDefined();
    }
  });
});

describe('the console paths check', () => {
  const without = (name: string, kind = 'NetworkPolicy') =>
    objectsOf('dev').filter((o) => !(o.kind === kind && o.metadata.name === name));
  const closed = (names: string[]) =>
    names.map((name): unknown =>
      expect.stringMatching(new RegExp(`^${name}: the NetworkPolicies keep saga-orchestrator from `)),
    );

  it("would report a path without the orchestrator's egress, or without a service's ingress", () => {
    expect(consoleProblems(without('console-to-services'))).toEqual(
      closed(['order', 'payment', 'warehouse', 'logistics']),
    );
    // The merchant API is open to the ingress controller only, not to every pod.
    expect(consoleProblems(without('services-from-console'))).toEqual(
      closed(['order', 'payment', 'warehouse', 'logistics']),
    );
  });

  it('would report a URL that names no Service of the overlay', () => {
    expect(consoleProblems(without('warehouse-service', 'Service'))).toEqual([
      'warehouse: http://warehouse-service:3002 is no Service port of this overlay',
    ]);
  });
});

describe('the topic permissions check', () => {
  it('has a schema that refuses a TopicPermission naming its user both ways, or not at all', async () => {
    const validator = ManifestValidator.load();
    const [valid] = ofKind<TopicPermission>(objectsOf('dev'), 'TopicPermission');
    expect(await validator.validate(valid)).toEqual([]);
    const both = structuredClone(valid);
    both.spec.user = 'order';
    const neither = structuredClone(valid);
    delete neither.spec.userReference;
    const noExchange = structuredClone(valid) as K8sObject & { spec: { permissions: object } };
    noExchange.spec.permissions = { write: '.*' };
    for (const wrong of [both, neither, noExchange]) expect(await validator.validate(wrong)).not.toEqual([]);
  });

  const changed = (change: (permissions: TopicPermission[]) => TopicPermission[]) => {
    const others = objectsOf('dev').filter((o) => o.kind !== 'TopicPermission');
    return [...others, ...change(structuredClone(ofKind<TopicPermission>(objectsOf('dev'), 'TopicPermission')))];
  };

  it('would report a missing, a stale and an extra permission, and one for a user no User object makes', () => {
    const problems = topicPermissionProblems(
      changed((permissions) => {
        const stale = permissions.find((p) => p.metadata.name === 'payment-orderflow-events')!;
        stale.spec.permissions.write = '.*';
        const extra = structuredClone(stale);
        extra.metadata.name = 'billing-orderflow-events';
        extra.spec.userReference = { name: 'billing' };
        return [...permissions.filter((p) => p.metadata.name !== 'saga-orderflow-retry'), extra];
      }),
    );
    expect(problems).toEqual([
      'TopicPermission/billing-orderflow-events: no User object billing',
      expect.stringMatching(/^not granted: payment orderflow\.events write=\^\(payment\\\.authorized/),
      expect.stringMatching(/^not granted: saga orderflow\.retry /),
      'not generated: billing orderflow.events write=.* read=.*',
      'not generated: payment orderflow.events write=.* read=.*',
    ]);
  });
});

type ServiceMonitor = K8sObject & {
  spec: { selector: LabelSelector; endpoints: { port?: string; path?: string }[] };
};
type PodMonitor = K8sObject & {
  spec: { selector: LabelSelector; podMetricsEndpoints?: { port?: string; path?: string }[] };
};
interface AlertingRule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
type PrometheusRule = K8sObject & { spec: { groups: { name: string; rules: AlertingRule[] }[] } };

const MONITORING_DIR = join(K8S_DIR, 'monitoring');
const RUNBOOKS = readFileSync(join(ROOT, 'docs/runbooks.md'), 'utf8');
/** GitHub's anchor of each `## ` section of docs/runbooks.md: lower case, punctuation dropped, spaces as hyphens. */
const RUNBOOK_SECTIONS = [...RUNBOOKS.matchAll(/^## (.+)$/gm)].map(([, title]) =>
  title
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replaceAll(' ', '-'),
);

/**
 * Each of the five services that no ServiceMonitor would scrape: none selects its Service, or none names a port the
 * Service has (by name), or Prometheus's NetworkPolicy keeps that port closed.
 */
function unscrapedServices(objects: readonly K8sObject[]): string[] {
  const monitors = ofKind<ServiceMonitor>([...objects], 'ServiceMonitor');
  const services = ofKind<ServiceObject>([...objects], 'Service');
  const deployments = ofKind<Deployment>([...objects], 'Deployment');
  const policies = ofKind<NetworkPolicy>([...objects], 'NetworkPolicy');
  const prometheus = { 'app.kubernetes.io/name': 'prometheus' };
  return SERVICES.flatMap((name): string[] => {
    const service = services.find((s) => s.metadata.name === name);
    const pod = deployments.find((d) => d.metadata.name === name);
    if (!service || !pod) return [`${name}: no Service or Deployment`];
    const scraped = monitors.some((m) =>
      m.spec.endpoints.some((e) => {
        const port = service.spec.ports.find((p) => p.name === e.port);
        if (!selects(m.spec.selector, service.metadata.labels ?? {}) || !port || (e.path ?? '/metrics') !== '/metrics')
          return false;
        const target = port.targetPort ?? port.port;
        const containerPort = pod.spec.template.spec.containers[0].ports?.find(
          (p) => p.name === target || p.containerPort === target,
        );
        // Prometheus is in another namespace: its ingress rule names it with a namespace selector, which `allowed`
        // (same-namespace peers) does not follow; what matters here is the rule on the pod's side.
        return (
          containerPort !== undefined &&
          policies.some(
            (p) =>
              p.spec.policyTypes.includes('Ingress') &&
              selects(p.spec.podSelector, pod.spec.template.metadata.labels) &&
              (p.spec.ingress ?? []).some(
                (rule) =>
                  (rule.from ?? []).some(
                    (peer) =>
                      peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring' &&
                      selects(peer.podSelector ?? {}, prometheus),
                  ) &&
                  (rule.ports ?? []).some(
                    (r) => r.port === containerPort.name || r.port === containerPort.containerPort,
                  ),
              ),
          )
        );
      }),
    );
    return scraped ? [] : [`${name}: no ServiceMonitor scrapes its /metrics`];
  });
}

/** What an alerting rule lacks for whoever it pages: severity, summary, description, and a runbook section. */
function alertProblems(rules: readonly PrometheusRule[], runbookBase: string): string[] {
  return rules.flatMap((r) =>
    r.spec.groups.flatMap((g) =>
      g.rules.flatMap((rule): string[] => {
        const name = rule.alert ?? '(no alert name)';
        const problems: string[] = [];
        if (!rule.alert) problems.push(`${name}: not an alerting rule`);
        if (!['critical', 'warning'].includes(rule.labels?.severity ?? ''))
          problems.push(`${name}: severity ${rule.labels?.severity}`);
        for (const key of ['summary', 'description']) if (!rule.annotations?.[key]) problems.push(`${name}: no ${key}`);
        const url = rule.annotations?.runbook_url ?? '';
        const [base, section] = url.split('#');
        if (base !== runbookBase || !RUNBOOK_SECTIONS.includes(section ?? ''))
          problems.push(`${name}: runbook_url ${url} is no section of docs/runbooks.md`);
        return problems;
      }),
    ),
  );
}

/** Where docs/runbooks.md is read, as deploy/k8s/monitoring/runbooks.yaml says. */
const runbookBase = (parse(readFileSync(join(MONITORING_DIR, 'runbooks.yaml'), 'utf8')) as { data: { url: string } })
  .data.url;

describe('monitoring (deploy/k8s/monitoring, in the prod overlay)', () => {
  const rulesOf = (objects: readonly K8sObject[]) => ofKind<PrometheusRule>([...objects], 'PrometheusRule');

  it('scrapes every service through its Service, on a port Prometheus may reach', () => {
    expect(ofKind(objectsOf('prod'), 'ServiceMonitor').length).toBeGreaterThan(0);
    expect(unscrapedServices(objectsOf('prod'))).toEqual([]);
  });

  it("scrapes every RabbitMQ node's /metrics on the prometheus port the NetworkPolicy opens", () => {
    const [cluster] = ofKind(objectsOf('prod'), 'RabbitmqCluster');
    const monitors = ofKind<PodMonitor>(objectsOf('prod'), 'PodMonitor');
    // The cluster operator labels its pods app.kubernetes.io/name=<cluster> and names the 15692 port `prometheus`.
    const nodeLabels = { 'app.kubernetes.io/name': cluster.metadata.name, 'app.kubernetes.io/component': 'rabbitmq' };
    const broker = monitors.filter((m) => selects(m.spec.selector, nodeLabels));
    expect(broker.flatMap((m) => m.spec.podMetricsEndpoints ?? [])).toEqual([
      expect.objectContaining({ port: 'prometheus', path: '/metrics' }),
    ]);
    const opened = ofKind<NetworkPolicy>(objectsOf('prod'), 'NetworkPolicy').some(
      (p) =>
        selects(p.spec.podSelector, nodeLabels) &&
        (p.spec.ingress ?? []).some(
          (rule) =>
            rule.from?.some(
              (peer) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring',
            ) && rule.ports?.some((port) => port.port === 15692),
        ),
    );
    expect(opened).toBe(true);
  });

  it('gives every alert a severity, a summary, a description and its own runbook section, and every section an alert', () => {
    const rules = rulesOf(objectsOf('prod'));
    expect(rules.length).toBeGreaterThan(0);
    expect(alertProblems(rules, runbookBase)).toEqual([]);
    const alerts = rules.flatMap((r) => r.spec.groups.flatMap((g) => g.rules.map((rule) => rule.alert)));
    expect(alerts.map((a) => a?.toLowerCase()).sort()).toEqual([...RUNBOOK_SECTIONS].sort());
  });

  it('covers the thresholds docs/operations.md asks to watch', () => {
    const expressions = rulesOf(objectsOf('prod'))
      .flatMap((r) => r.spec.groups.flatMap((g) => g.rules.map((rule) => rule.expr)))
      .join('\n');
    for (const metric of [
      'orderflow_outbox_oldest_pending_age_seconds',
      'rabbitmq_queue_messages_ready',
      'orderflow_sagas',
      'orderflow_scheduled_jobs_oldest_overdue_seconds',
      'orderflow_notifications_settled_total',
      'rabbitmq_queue_consumers',
    ]) {
      expect(expressions, metric).toContain(metric);
    }
  });

  it('stays out of dev, which applies without the Prometheus Operator, and applies there on its own', async () => {
    expect(objectsOf('dev').filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
    const alone = renderKustomization(MONITORING_DIR);
    expect(alone.map(objectName).sort()).toEqual([
      'PodMonitor/orderflow-rabbitmq',
      'PrometheusRule/orderflow',
      'ServiceMonitor/orderflow-services',
    ]);
    expect(alone.every((o) => o.metadata.namespace === 'orderflow')).toBe(true);
    expect(await problemsOf(alone)).toEqual([]);
  });
});

describe('the monitoring checks', () => {
  // Read in each test: the overlays are rendered in beforeAll, after this block is collected.
  const monitorOf = () => ofKind<ServiceMonitor>(objectsOf('prod'), 'ServiceMonitor')[0];
  const ruleOf = () => ofKind<PrometheusRule>(objectsOf('prod'), 'PrometheusRule')[0];

  it('have schemas that refuse an unknown field, a malformed duration and a rule without expr', async () => {
    const misspelt = structuredClone(monitorOf());
    Object.assign(misspelt.spec.endpoints[0], { intervall: '30s' });
    expect(await validator.validate(misspelt)).toEqual([
      'spec.endpoints.0 must NOT have additional properties: intervall',
    ]);
    const noExpr = structuredClone(ruleOf()) as K8sObject & { spec: { groups: { rules: Partial<AlertingRule>[] }[] } };
    delete noExpr.spec.groups[0].rules[0].expr;
    noExpr.spec.groups[0].rules[1].for = 'five minutes';
    expect(await validator.validate(noExpr)).toEqual([
      "spec.groups.0.rules.0 must have required property 'expr'",
      expect.stringMatching(/^spec\.groups\.0\.rules\.1\.for must match pattern/),
    ]);
  });

  it('would report a service no monitor selects, or whose port name is wrong', () => {
    const others = objectsOf('prod').filter((o) => o.kind !== 'ServiceMonitor');
    const narrowed = structuredClone(monitorOf());
    narrowed.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'order-service' } };
    expect(unscrapedServices([...others, narrowed])).toEqual(
      SERVICES.filter((s) => s !== 'order-service').map((s) => `${s}: no ServiceMonitor scrapes its /metrics`),
    );
    const wrongPort = structuredClone(monitorOf());
    wrongPort.spec.endpoints = [{ port: 'metrics', path: '/metrics' }];
    expect(unscrapedServices([...others, wrongPort])).toHaveLength(SERVICES.length);
  });

  it('would report an alert without its runbook section or severity', () => {
    const broken = structuredClone(ruleOf());
    broken.spec.groups[0].rules[0].annotations!.runbook_url =
      'https://elsewhere.example.com/runbooks.md#orderflowoutboxstuck';
    broken.spec.groups[0].rules[2].annotations!.runbook_url = `${runbookBase}#no-such-section`;
    delete broken.spec.groups[0].rules[1].labels;
    expect(alertProblems([broken], runbookBase)).toEqual([
      expect.stringMatching(/^OrderflowOutboxStuck: runbook_url https:\/\/elsewhere/),
      `${broken.spec.groups[0].rules[1].alert}: severity undefined`,
      expect.stringMatching(/#no-such-section is no section of docs\/runbooks\.md$/),
    ]);
  });
});

describe('secrets.sh, given secrets.example.env as it is', () => {
  it('refuses to make Secrets, naming every variable still holding an example value', () => {
    const result = spawnSync('bash', [join(K8S_DIR, 'secrets.sh'), join(K8S_DIR, 'secrets.example.env')], {
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    const example = readFileSync(join(K8S_DIR, 'secrets.example.env'), 'utf8');
    const keys = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) expect(result.stderr, key).toMatch(new RegExp(`^secrets\\.sh: ${key} `, 'm'));
  });
});

describe('secrets.sh, given an env file that lacks a key', () => {
  it('prints no Secret and names the key, for every key', () => {
    const full = readFileSync(exampleSecretsFilledIn(), 'utf8');
    const keys = [...full.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    for (const key of keys) {
      const file = join(mkdtempSync(join(tmpdir(), 'orderflow-secrets-')), 'secrets.env');
      writeFileSync(file, full.replace(new RegExp(`^${key}=.*$`, 'm'), ''), { mode: 0o600 });
      const result = spawnSync('bash', [join(K8S_DIR, 'secrets.sh'), file], { encoding: 'utf8' });
      expect(result.status, key).not.toBe(0);
      expect(result.stdout, key).toBe('');
      expect(result.stderr, key).toContain(`${key} is missing or empty`);
    }
  }, 60_000);
});

describe('the Secrets secrets.sh makes from secrets.example.env, filled in', () => {
  it('are valid Secrets, with each service URL built from its role and user', async () => {
    expect(await problemsOf(secrets)).toEqual([]);
    const data = (name: string, key: string) => {
      const secret = secrets.find((s) => s.metadata.name === name) as { data: Record<string, string> } | undefined;
      return Buffer.from(secret?.data[key] ?? '', 'base64').toString();
    };
    const password = data('postgres-payment', 'password');
    expect(data('payment-service-secrets', 'DATABASE_URL')).toBe(
      `postgresql://orderflow_payment:${password}@orderflow-postgres-rw:5432/orderflow_payment`,
    );
    expect(data('postgres-payment-migrator', 'username')).toBe('orderflow_payment_migrator');
    expect(data('payment-service-migrator', 'MIGRATION_DATABASE_URL')).toBe(
      `postgresql://orderflow_payment_migrator:${data('postgres-payment-migrator', 'password')}@orderflow-postgres-rw:5432/orderflow_payment`,
    );
    expect(data('payment-service-secrets', 'MIGRATION_DATABASE_URL')).toBe('');
    expect(data('payment-service-secrets', 'AMQP_URL')).toBe(
      `amqp://payment:${data('rabbitmq-payment', 'password')}@orderflow-rabbitmq:5672/orderflow`,
    );
  });
});

describe('the broker topology', () => {
  it('is generated from deploy/rabbitmq/definitions.json and committed as it is generated', async () => {
    expect(readFileSync(TOPOLOGY_FILE, 'utf8')).toBe(await topologyFile());
  });
});
