using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Raworc.ApiService.Data;

/// <summary>
/// Explicit result columns for raw SQL whose rows EF Core maps onto an entity as they come (<c>UPDATE … RETURNING</c>,
/// <c>DELETE … RETURNING</c>, a <c>WITH</c> around one). Such a statement must not return <c>*</c>: each pooled connection
/// keeps its most-run statements prepared (<see cref="DataExtensions.DefaultMaxAutoPrepare"/>), and after another
/// replica's migration has added a column (a rolling upgrade), Postgres refuses to run a prepared statement whose result
/// columns would change ("0A000: cached plan must not change result type", PostgreSQL's plan cache), once on every
/// connection that had it prepared. A statement that names its columns keeps its result, and EF maps it as before.
/// </summary>
internal static class ResultColumns
{
    private static readonly ConcurrentDictionary<Type, SqlText> Lists = new();

    /// <summary>
    /// The columns the model maps for <typeparamref name="TEntity"/> on its table, quoted and comma-separated
    /// (<c>"id", "name", …</c>), for <see cref="Inline"/> to write into a statement's text. Made once per type.
    /// </summary>
    public static SqlText Of<TEntity>(DbContext db) where TEntity : class => Lists.GetOrAdd(typeof(TEntity), type =>
    {
        var entity = db.Model.FindEntityType(type) ?? throw new InvalidOperationException($"{type.Name} is not in the model.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        return new SqlText(string.Join(", ", entity.GetProperties()
            .Select(property => property.GetColumnName(table))
            .OfType<string>()
            .Select(column => "\"" + column.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"")));
    });

    /// <summary>
    /// <paramref name="sql"/> with each <see cref="SqlText"/> argument written into its text, each
    /// <see cref="FormattableString"/> argument (a condition a few statements share, with its own arguments) written in
    /// place with its arguments renumbered after the ones before it, and every other argument kept as an argument, which
    /// EF Core sends as a parameter (it makes one of each argument of an interpolated string).
    /// </summary>
    public static FormattableString Inline(FormattableString sql)
    {
        var text = new StringBuilder(sql.Format.Length);
        var arguments = new List<object?>(sql.ArgumentCount);
        Append(sql, text, arguments);
        return FormattableStringFactory.Create(text.ToString(), [.. arguments]);
    }

    // Writes sql's format into text, its holes renumbered from arguments' count, inlining SqlText and FormattableString arguments.
    private static void Append(FormattableString sql, StringBuilder text, List<object?> arguments)
    {
        var format = sql.Format;
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c is '{' or '}' && i + 1 < format.Length && format[i + 1] == c)
            {
                // A literal brace, written doubled in a composite format.
                text.Append(c, 2);
                i++;
                continue;
            }
            if (c != '{')
            {
                text.Append(c);
                continue;
            }
            var end = format.IndexOf('}', i);
            var hole = format[(i + 1)..end];
            var indexLength = hole.IndexOfAny([',', ':']) is var stop and >= 0 ? stop : hole.Length;
            var argument = sql.GetArgument(int.Parse(hole[..indexLength], CultureInfo.InvariantCulture));
            if (argument is SqlText inlined)
            {
                text.Append(inlined.Text.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal));
            }
            else if (argument is FormattableString nested)
            {
                Append(nested, text, arguments);
            }
            else
            {
                text.Append('{').Append(arguments.Count.ToString(CultureInfo.InvariantCulture)).Append(hole[indexLength..]).Append('}');
                arguments.Add(argument);
            }
            i = end;
        }
    }
}

/// <summary>Text <see cref="ResultColumns.Inline"/> writes into a statement as it is: only what Raworc makes from its own model, never a value.</summary>
internal readonly record struct SqlText(string Text);
