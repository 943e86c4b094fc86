import type { SqlExecutor } from '@orderflow/saga';

/**
 * How many instances of a saga type are in each state, `Final` included: the console's overview. Read on demand
 * by an operator, not on every metrics scrape (that is `orderflow_sagas`, which counts only unfinished ones); the
 * `saga_instances_by_state` index answers it without reading the rows.
 */
export class SagaCountsRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async countsByState(sagaType: string): Promise<Record<string, number>> {
    const rows = await this.sql.query<{ state: string; count: number }[]>(
      'SELECT state, count(*)::int AS count FROM saga_instances WHERE saga_type = $1 GROUP BY state ORDER BY state',
      [sagaType],
    );
    return Object.fromEntries(rows.map((row) => [row.state, row.count]));
  }
}
