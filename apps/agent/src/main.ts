import { startAgent } from './start-agent';

startAgent();
