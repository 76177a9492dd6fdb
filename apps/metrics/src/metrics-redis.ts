/** Injection token of the metrics app's Redis connection (an IORedis, or a Cluster with REDIS_CLUSTER_NODES). */
export const METRICS_REDIS = Symbol('METRICS_REDIS');
