// The runtime manifest (OpenWhisk ansible/files/runtimes.json shape): which kinds exist, which is
// each family's default, their images and stem cells. Served at GET / and used to validate `exec.kind`.

export interface RuntimeKind {
  kind: string;
  default: boolean;
  image: { prefix: string; name: string; tag: string };
  deprecated: boolean;
  attached: { attachmentName: string; attachmentType: string };
  stemCells: { initialCount: number; memory: string }[];
  requireMain?: boolean;
}

export interface RuntimeManifest {
  runtimes: Record<string, RuntimeKind[]>;
  blackboxes: { prefix: string; name: string; tag: string }[];
}

export const BLACKBOX_KIND = 'blackbox';

export const RUNTIME_MANIFEST: RuntimeManifest = {
  runtimes: {
    nodejs: [
      {
        kind: 'nodejs:20',
        default: true,
        image: { prefix: 'gust', name: 'action-nodejs', tag: '20' },
        deprecated: false,
        attached: { attachmentName: 'codefile', attachmentType: 'text/plain' },
        stemCells: [{ initialCount: 2, memory: '256 MB' }],
      },
    ],
  },
  blackboxes: [{ prefix: 'openwhisk', name: 'dockerskeleton', tag: 'nightly' }],
};

const KINDS = new Map<string, RuntimeKind>();
for (const [family, kinds] of Object.entries(RUNTIME_MANIFEST.runtimes)) {
  for (const kind of kinds) {
    KINDS.set(kind.kind, kind);
    if (kind.default) KINDS.set(`${family}:default`, kind);
  }
}

/** `nodejs:default` → the `nodejs:20` entry; undefined for unknown kinds (and for blackbox). */
export function resolveRuntimeKind(kind: string): RuntimeKind | undefined {
  return KINDS.get(kind);
}

/** Image reference of a managed kind, e.g. `gust/action-nodejs:20`. */
export function runtimeImage(kind: RuntimeKind): string {
  return `${kind.image.prefix}/${kind.image.name}:${kind.image.tag}`;
}

/** For OpenWhisk's unsupported-runtime message: `'blackbox', 'nodejs:20', 'nodejs:default'`. */
export function validKindsList(): string {
  return [BLACKBOX_KIND, ...KINDS.keys()]
    .sort()
    .map((kind) => `'${kind}'`)
    .join(', ');
}
