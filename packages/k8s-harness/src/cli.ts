// node packages/k8s-harness/src/cli.ts <command>
//   ensure [--tools kube-apiserver,etcd,...] [--crds]   build/fetch what is missing into the cache
//   start [--controller-manager] [--no-aggregation]     run a control plane until Ctrl-C
//   status                                              versions, paths, and what is provisioned
import { parseArgs } from 'node:util';
import { startControlPlane } from './control-plane.ts';
import { ensureCrds } from './crds.ts';
import { kubeCacheDir } from './paths.ts';
import { ALL_KUBE_TOOLS, ensureKubeTools, type KubeTool, kubeToolPaths, kubeToolsReady } from './tools.ts';
import * as versions from './versions.ts';

const usage = `Usage: node packages/k8s-harness/src/cli.ts <command>

Commands:
  ensure [--tools a,b] [--crds]          build what is missing into ${kubeCacheDir()} (tools: ${ALL_KUBE_TOOLS.join(', ')})
  start [--controller-manager] [--no-aggregation]
                                         run etcd + kube-apiserver (+ kube-controller-manager) until Ctrl-C
  status                                 pinned versions, paths and what is already provisioned
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      tools: { type: 'string' },
      crds: { type: 'boolean', default: false },
      'controller-manager': { type: 'boolean', default: false },
      'no-aggregation': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (!command || values.help || command === 'help') {
    process.stdout.write(usage);
    return command ? 0 : 2;
  }
  if (command === 'status') {
    const paths = kubeToolPaths();
    const lines = [
      `cache: ${kubeCacheDir()}`,
      ...Object.entries(versions)
        .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
        .map(([k, v]) => `${k}: ${v}`),
      ...ALL_KUBE_TOOLS.map((t) => `${t}: ${kubeToolsReady([t]) ? 'ready' : 'missing'}`),
      ...Object.entries(paths).map(([k, v]) => `path.${k}: ${v}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
  if (command === 'ensure') {
    const tools = values.tools ? (values.tools.split(',') as KubeTool[]) : ALL_KUBE_TOOLS;
    const unknown = tools.filter((t) => !ALL_KUBE_TOOLS.includes(t));
    if (unknown.length) {
      process.stderr.write(`unknown tools: ${unknown.join(', ')}\n`);
      return 2;
    }
    const started = Date.now();
    await ensureKubeTools({ tools });
    if (values.crds) await ensureCrds();
    process.stderr.write(`[k8s-harness] ready in ${Math.round((Date.now() - started) / 1000)} s\n`);
    return 0;
  }
  if (command === 'start') {
    const cp = await startControlPlane({
      aggregation: !values['no-aggregation'],
      controllerManager: values['controller-manager'],
    });
    process.stdout.write(
      `API server: ${cp.server}\nexport KUBECONFIG=${cp.kubeconfigPath}\n(Ctrl-C stops it)\n`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await cp.stop();
    return 0;
  }
  process.stderr.write(`unknown command '${command}'\n\n${usage}`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
