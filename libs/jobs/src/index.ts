export * from './handover-job';
