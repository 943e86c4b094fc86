// npm run k8s:validate — renders every overlay of deploy/k8s (and the Secrets secrets.sh makes from the example env
// file), validates each object offline against its schema (unknown fields included) and checks that every image it
// names is pinned to one release; exits 1 naming every problem. Needs no cluster.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  K8S_DIR,
  ManifestValidator,
  kubectl,
  objectName,
  overlayNames,
  renderKustomization,
  renderSecrets,
  exampleSecretsFilledIn,
  imageReferences,
  unpinnedImage,
  type K8sObject,
} from './manifests.js';
import { TOPOLOGY_FILE, topologyFile } from './topology.js';

const validator = ManifestValidator.load();
console.log(`rendering with ${kubectl()}`);

const sets: [string, () => K8sObject[]][] = [
  ...overlayNames().map((overlay): [string, () => K8sObject[]] => [
    `overlays/${overlay}`,
    () => renderKustomization(join(K8S_DIR, 'overlays', overlay)),
  ]),
  // The example's own values are refused by secrets.sh: rendered as an operator fills them in.
  ['secrets.sh secrets.example.env, filled in', () => renderSecrets(exampleSecretsFilledIn())],
];

let problems = 0;
for (const [label, render] of sets) {
  const objects = render();
  for (const object of objects) {
    const imageProblems = imageReferences(object).flatMap(({ path, reference }) => {
      const problem = unpinnedImage(reference);
      return problem ? [`${path}: ${problem}`] : [];
    });
    for (const problem of [...(await validator.validate(object)), ...imageProblems]) {
      console.error(`${label}: ${objectName(object)}: ${problem}`);
      problems += 1;
    }
  }
  console.log(`${label}: ${objects.length} objects checked`);
}

if (readFileSync(TOPOLOGY_FILE, 'utf8') !== (await topologyFile())) {
  console.error('stale: deploy/k8s/infra/rabbitmq/topology.yaml (run npx tsx scripts/k8s/topology.ts)');
  problems += 1;
}

if (problems > 0) {
  console.error(`${problems} problem(s)`);
  process.exitCode = 1;
} else {
  console.log('every object is valid');
}
