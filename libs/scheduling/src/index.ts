// The durable scheduler's public face, named export by export: what the services schedule and poll with.

export { type Clock, ManualClock } from './clock.js';
export { type JobContext, JobRunner } from './job-runner.js';
export { type ClaimedJob, JobLeaseLost, JobStore, type Queryable } from './job-store.js';
export { CreateScheduledJobs1764100000000 } from './scheduled-jobs.migration.js';
export { ScheduledJobsKeepTheirPages1765100000001 } from './scheduled-jobs-keep-their-pages.migration.js';
export { durationSetting, schedulingConfigShape } from './scheduling-config.js';
export { SCHEDULER_CLOCK, SchedulingModule } from './scheduling.module.js';
export { type FinishPoll, type PollAnswer, StatusPoll, StatusPolls } from './status-poll.js';
export { formatDuration, InvalidDuration, parseDuration } from './duration.js';
