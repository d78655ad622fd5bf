def melt(rows, id_vars):
    out = []
    for row in rows:
        ids = {k: row[k] for k in id_vars}
        for key, value in row.items():
            if key not in id_vars:
                out.append({**ids, "variable": key, "value": value})
    return out


def pivot(rows, index, columns, values):
    table = {}
    for row in rows:
        table.setdefault(row[index], {index: row[index]})[row[columns]] = row[values]
    return list(table.values())
