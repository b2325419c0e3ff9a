// Drives the PulseCart twins with Google's official Node clients, unchanged but for the endpoint settings, as a user of
// those clients would. Run by tests/PulseCart.OfficialClients.Tests:
//   node clients.mjs SCENARIO MODE      (MODE: grpc, the clients' default, or rest, their `fallback: true` transport)
// Ports and names come from the environment (TASKS_GRPC_PORT, TASKS_REST_PORT, PUBSUB_GRPC_PORT, PUBSUB_REST_PORT,
// PROJECT, CALLBACK_URL, PUSH_URL, PUSH_ACCOUNT, EVENT_JSON). Each step prints one JSON line; any failure exits non-zero.
import { CloudTasksClient } from '@google-cloud/tasks';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { OAuth2Client } from 'google-auth-library';
import gax from 'google-gax';

const [scenario, mode] = process.argv.slice(2);
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const project = env('PROJECT');
const log = (step, detail = {}) => console.log(JSON.stringify({ step, ...detail }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// REST mode still wants credentials; a fixed access token stands in for them, as CLOUDSDK_AUTH_ACCESS_TOKEN does for gcloud.
const dummyAuth = () => {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: 'dummy', expiry_date: Date.now() + 3600_000 });
  return auth;
};

const clientOptions = (grpcPort, restPort) =>
  mode === 'rest'
    ? { fallback: true, protocol: 'http', apiEndpoint: '127.0.0.1', port: Number(restPort), authClient: dummyAuth(), projectId: project }
    : { apiEndpoint: '127.0.0.1', port: Number(grpcPort), sslCreds: gax.grpc.credentials.createInsecure(), projectId: project };

const tasksClient = () => new CloudTasksClient(clientOptions(env('TASKS_GRPC_PORT'), env('TASKS_REST_PORT')));

// gRPC mode the way Pub/Sub's documentation says: PUBSUB_EMULATOR_HOST (set by the test), nothing else. The PubSub
// class reads its port from apiEndpoint ("host:port") and ignores a separate port option.
const pubsub = () =>
  mode === 'rest'
    ? new PubSub({ fallback: true, protocol: 'http', apiEndpoint: `127.0.0.1:${env('PUBSUB_REST_PORT')}`, authClient: dummyAuth(), projectId: project })
    : new PubSub({ projectId: project });
const subscriberClient = () =>
  new v1.SubscriberClient(mode === 'rest' ? clientOptions(env('PUBSUB_GRPC_PORT'), env('PUBSUB_REST_PORT')) : { servicePath: '127.0.0.1', port: Number(env('PUBSUB_GRPC_PORT')), sslCreds: gax.grpc.credentials.createInsecure(), projectId: project });

async function notFound(call) {
  try {
    await call();
    return false;
  } catch (error) {
    return error.code === 5;
  }
}

const scenarios = {
  // Queue create with the seed's settings → task create (scheduleTime, OIDC) → dispatch → gone; pause, resume, purge, run.
  async tasks() {
    const client = tasksClient();
    const parent = `projects/${project}/locations/local`;
    const name = `${parent}/queues/node-${mode}`;
    const [queue] = await client.createQueue({
      parent,
      queue: {
        name,
        rateLimits: { maxDispatchesPerSecond: 20, maxConcurrentDispatches: 5 },
        retryConfig: { maxAttempts: 5, minBackoff: { seconds: 1 }, maxBackoff: { seconds: 10 }, maxDoublings: 2 },
      },
    });
    log('queue created', { name: queue.name, state: queue.state, maxAttempts: queue.retryConfig.maxAttempts, rate: queue.rateLimits.maxDispatchesPerSecond });

    const body = Buffer.from(JSON.stringify({ hello: mode }));
    const scheduleTime = { seconds: Math.floor(Date.now() / 1000) + 1 };
    const [task] = await client.createTask({
      parent: name,
      task: {
        name: `${name}/tasks/first-${mode}`,
        scheduleTime,
        httpRequest: {
          url: env('CALLBACK_URL'),
          httpMethod: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
          oidcToken: { serviceAccountEmail: 'tasks@pulsecart-local.iam.gserviceaccount.com', audience: 'https://audience.example' },
        },
      },
      responseView: 'FULL',
    });
    log('task created', { name: task.name, view: task.view, body: Buffer.from(task.httpRequest.body).toString() });

    let dispatched = false;
    for (let i = 0; i < 100 && !dispatched; i++) {
      await sleep(100);
      dispatched = await notFound(() => client.getTask({ name: task.name }));
    }
    if (!dispatched) throw new Error('the task was not dispatched and removed within 10 s');
    log('task dispatched and gone', { name: task.name });

    const [paused] = await client.pauseQueue({ name });
    log('queue paused', { state: paused.state });
    const [held] = await client.createTask({ parent: name, task: { name: `${name}/tasks/held-${mode}`, httpRequest: { url: env('CALLBACK_URL'), httpMethod: 'POST' } } });
    await sleep(1500);
    const [listed] = await client.listTasks({ parent: name });
    log('task held while paused', { tasks: listed.map((t) => t.name) });
    const [ran] = await client.runTask({ name: held.name });
    for (let i = 0; i < 100 && !(await notFound(() => client.getTask({ name: held.name }))); i++) await sleep(100);
    log('task run in a paused queue', { name: ran.name, gone: await notFound(() => client.getTask({ name: held.name })) });

    await client.createTask({ parent: name, task: { name: `${name}/tasks/purged-${mode}`, httpRequest: { url: env('CALLBACK_URL') } } });
    const [purged] = await client.purgeQueue({ name });
    const [afterPurge] = await client.listTasks({ parent: name });
    log('queue purged', { tasks: afterPurge.length, purgeTime: Boolean(purged.purgeTime) });
    const [resumed] = await client.resumeQueue({ name });
    log('queue resumed', { state: resumed.state });

    const [updated] = await client.updateQueue({ queue: { name, retryConfig: { maxAttempts: 9 } }, updateMask: { paths: ['retry_config.max_attempts'] } });
    log('queue updated', { maxAttempts: updated.retryConfig.maxAttempts, minBackoff: Number(updated.retryConfig.minBackoff.seconds) });

    await client.deleteQueue({ name });
    log('queue deleted', { gone: await notFound(() => client.getQueue({ name })) });
    await client.close();
  },

  // Topic → push subscription to the consumer → publish an order.placed event.
  async push() {
    const client = pubsub();
    const [topic] = await client.createTopic(`orders-${mode}`);
    log('topic created', { name: topic.name });
    const [subscription] = await topic.createSubscription(`consumer-${mode}`, {
      pushConfig: { pushEndpoint: env('PUSH_URL'), oidcToken: { serviceAccountEmail: env('PUSH_ACCOUNT'), audience: env('PUSH_URL') } },
      ackDeadlineSeconds: 30,
    });
    log('push subscription created', { name: subscription.name });
    const id = await topic.publishMessage({ data: Buffer.from(env('EVENT_JSON')), attributes: { origin: `node-${mode}` } });
    log('published', { messageId: id });
    await client.close();
  },

  // Pull subscription: publish, pull, acknowledge (unary), then the subscriber's stream (gRPC) and modifyPushConfig push→pull→push.
  async pull() {
    const client = pubsub();
    const [topic] = await client.createTopic(`pulled-${mode}`);
    const [subscription] = await topic.createSubscription(`puller-${mode}`, { ackDeadlineSeconds: 10 });
    log('pull subscription created', { name: subscription.name, pushEndpoint: subscription.metadata?.pushConfig?.pushEndpoint ?? '' });
    await topic.publishMessage({ data: Buffer.from('first') });

    const subscriber = subscriberClient();
    const [pulled] = await subscriber.pull({ subscription: subscription.name, maxMessages: 10 });
    log('pulled', { data: pulled.receivedMessages.map((m) => Buffer.from(m.message.data).toString()) });
    await subscriber.acknowledge({ subscription: subscription.name, ackIds: pulled.receivedMessages.map((m) => m.ackId) });
    const [again] = await subscriber.pull({ subscription: subscription.name, maxMessages: 10, returnImmediately: true });
    log('acknowledged', { left: again.receivedMessages.length });

    if (mode === 'grpc') {
      await topic.publishMessage({ data: Buffer.from('streamed') });
      const streamed = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message on the stream within 10 s')), 10_000);
        subscription.on('error', reject);
        subscription.on('message', (message) => {
          clearTimeout(timer);
          message.ack();
          resolve(message.data.toString());
        });
      });
      await subscription.close();
      log('streamed and acked', { data: streamed });
    }

    const pushConfig = { pushEndpoint: env('PUSH_URL'), oidcToken: { serviceAccountEmail: 'pusher@pulsecart-local.iam.gserviceaccount.com', audience: 'https://push.example' } };
    await subscriber.modifyPushConfig({ subscription: subscription.name, pushConfig });
    const [asPush] = await subscriber.getSubscription({ subscription: subscription.name });
    await subscriber.modifyPushConfig({ subscription: subscription.name, pushConfig: {} });
    const [asPull] = await subscriber.getSubscription({ subscription: subscription.name });
    await subscriber.modifyPushConfig({ subscription: subscription.name, pushConfig });
    const [restored] = await subscriber.getSubscription({ subscription: subscription.name });
    log('push config changed', {
      push: asPush.pushConfig.pushEndpoint,
      pull: asPull.pushConfig?.pushEndpoint ?? '',
      restored: restored.pushConfig.pushEndpoint,
      account: restored.pushConfig.oidcToken?.serviceAccountEmail ?? '',
      audience: restored.pushConfig.oidcToken?.audience ?? '',
    });

    await subscription.delete();
    await topic.delete();
    const [topics] = await client.getTopics();
    log('deleted', { topics: topics.map((t) => t.name).filter((n) => n.endsWith(`pulled-${mode}`)).length });
    await subscriber.close();
    await client.close();
  },
};

if (!scenarios[scenario] || !['grpc', 'rest'].includes(mode)) {
  console.error(`usage: node clients.mjs ${Object.keys(scenarios).join('|')} grpc|rest`);
  process.exit(2);
}

try {
  await scenarios[scenario]();
  process.exit(0);
} catch (error) {
  console.error(`${scenario} (${mode}) failed: ${error.code ?? ''} ${error.stack ?? error}`);
  process.exit(1);
}
