"""Cross-sell recommendations: for each customer, the top k products they have not bought.

Item-to-item scoring from the product pair affinity. For customer c who bought the set B(c), and candidate product q
not in B(c):

    score(c, q) = (1 / |B(c)|) * sum over p in B(c) of confidence(p -> q)

where the edges p -> q kept for each p are first those with lift > 1 (bought together more than chance), and of
those the `neighbours_per_product` strongest by confidence (ties by q). The score is the average, over what the
customer bought, of the probability that an order with that product also holds q; it lies in [0, 1]. Only products
with a positive score are recommended, so a customer may get fewer than k. Ties rank by product_id.

Why not in SQL: the join of (customer, bought product) with the neighbour lists is ~|lines| x k rows before it is
aggregated (180M rows at 10M order lines), which DuckDB took 17 s for with k=10 on this machine. The same sum is a
sparse matrix product, customers x products times products x products, which takes about a second. DuckDB still
reads the inputs and holds the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from dagster_project.product.params import AffinityParams
from dagster_project.product.schemas import PRODUCT_SCHEMA
from dagster_project.product.staging import customer_key_sql
from dagster_project.warehouse.connection import row_count

if TYPE_CHECKING:  # annotations only: `slo validate` imports the build to check it, without opening DuckDB
    import duckdb

# Scores are scored densely a block of customers at a time: block rows x products stays near this many cells.
CELLS_PER_BLOCK = 2_000_000


def _edges_sql(neighbours: int) -> str:
    """Directed edges p -> q between product indexes, the strongest `neighbours` of each p with lift > 1."""
    return f"""
    WITH edges AS (
        SELECT product_a AS p, product_b AS q, confidence_ab AS confidence
        FROM {PRODUCT_SCHEMA}.product_pair_affinity WHERE lift > 1
        UNION ALL
        SELECT product_b, product_a, confidence_ba FROM {PRODUCT_SCHEMA}.product_pair_affinity WHERE lift > 1
    ),
    top_edges AS (
        SELECT p, q, confidence FROM edges
        QUALIFY row_number() OVER (PARTITION BY p ORDER BY confidence DESC, q) <= {int(neighbours)}
    )
    SELECT pp.pidx AS p, pq.pidx AS q, e.confidence
    FROM top_edges e
    JOIN _rec_products pp ON pp.product_id = e.p
    JOIN _rec_products pq ON pq.product_id = e.q
    """


def top_k_per_row(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, value, rank) of the k largest positive entries of each row of a dense block; ties by column.

    np.partition finds each row's k-th largest value in linear time; only entries at or above it (k plus ties) are
    sorted.
    """
    n_rows, n_cols = scores.shape
    if n_rows == 0 or n_cols == 0 or k < 1:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=np.float64), empty
    kk = min(k, n_cols)
    kth = -np.partition(-scores, kk - 1, axis=1)[:, kk - 1]
    row, col = np.nonzero((scores >= kth[:, None]) & (scores > 0))
    val = scores[row, col]
    order = np.lexsort((col, -val, row))
    row, col, val = row[order], col[order], val[order]
    rank = np.arange(len(row)) - np.searchsorted(row, row, side="left") + 1
    top = rank <= k
    return row[top], col[top], val[top], rank[top]


def build_cross_sell_recommendations(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PRODUCT_SCHEMA}")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _rec_customers AS
        SELECT customer_sk, (row_number() OVER (ORDER BY customer_sk) - 1)::INTEGER AS cid
        FROM (SELECT DISTINCT customer_sk FROM staging.order_lines WHERE customer_sk IS NOT NULL)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _rec_products AS
        SELECT product_id, (row_number() OVER (ORDER BY product_id) - 1)::INTEGER AS pidx
        FROM (SELECT DISTINCT product_id FROM staging.order_lines)
        """
    )
    try:
        result = _score(con, params)
        con.register("_rec_scores", result)
        con.execute(
            f"""
            CREATE OR REPLACE TABLE {PRODUCT_SCHEMA}.cross_sell_recommendations AS
            SELECT {customer_key_sql("c.customer_sk")} AS customer_key, r.rank, p.product_id, r.score
            FROM _rec_scores r
            JOIN _rec_customers c USING (cid)
            JOIN _rec_products p USING (pidx)
            ORDER BY customer_key, r.rank
            """
        )
    finally:
        con.unregister("_rec_scores")
        con.execute("DROP TABLE IF EXISTS _rec_customers")
        con.execute("DROP TABLE IF EXISTS _rec_products")


def _score(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> pa.Table:
    import scipy.sparse as sp  # only here: the CLI's other commands should not pay for importing scipy

    n_customers = row_count(con, "temp._rec_customers")
    n_products = row_count(con, "temp._rec_products")
    bought = con.execute(
        """
        SELECT DISTINCT c.cid, p.pidx
        FROM staging.order_lines l
        JOIN _rec_customers c USING (customer_sk)
        JOIN _rec_products p USING (product_id)
        """
    ).fetchnumpy()
    edges = con.execute(_edges_sql(params.neighbours_per_product)).fetchnumpy()
    basket = sp.csr_matrix(
        (np.ones(len(bought["cid"])), (bought["cid"], bought["pidx"])), shape=(n_customers, n_products)
    )
    neighbours = sp.csr_matrix((edges["confidence"], (edges["p"], edges["q"])), shape=(n_products, n_products))
    basket_sizes = np.diff(basket.indptr)
    rows_per_block = max(1, CELLS_PER_BLOCK // max(1, n_products))
    parts: list[pa.Table] = []
    for start in range(0, n_customers, rows_per_block):
        block = basket[start : start + rows_per_block]
        scores = (block @ neighbours).toarray()
        block_rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        scores[block_rows, block.indices] = 0.0  # never recommend what the customer already bought
        row, col, val, rank = top_k_per_row(scores, params.recommendations_per_customer)
        cid = row + start
        columns = [
            _arrow(cid, np.int32),
            _arrow(rank, np.int64),
            _arrow(col, np.int32),
            _arrow(val / basket_sizes[cid]),
        ]
        parts.append(pa.Table.from_arrays(columns, schema=_SCORES))
    return pa.concat_tables(parts) if parts else _SCORES.empty_table()


_SCORES = pa.schema([("cid", pa.int32()), ("rank", pa.int64()), ("pidx", pa.int32()), ("score", pa.float64())])


def _arrow(values: np.ndarray, dtype: type[np.number] = np.float64) -> pa.Array:
    """A numpy vector as an Arrow array without a copy. Not pa.array: for a numpy argument it imports pandas (0.3-0.7 s
    of a build) to ask whether the vector is a pandas one."""
    data = np.ascontiguousarray(values, dtype=dtype)
    return pa.Array.from_buffers(pa.from_numpy_dtype(data.dtype), len(data), [None, pa.py_buffer(data)])
