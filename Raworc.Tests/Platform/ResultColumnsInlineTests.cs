using Raworc.ApiService.Data;

namespace Raworc.Tests.Platform;

/// <summary><see cref="ResultColumns.Inline"/>: what it writes into a statement's text and what it keeps as parameters.</summary>
public sealed class ResultColumnsInlineTests
{
    [Fact]
    public void ANestedConditionIsWrittenInPlaceWithItsArgumentsRenumberedAfterTheOnesBefore()
    {
        var id = Guid.NewGuid();
        FormattableString condition = $"(created_by = {"ada"} AND created_by_type = {"user"})";

        var sql = ResultColumns.Inline($"UPDATE sessions SET state = {"busy"} WHERE id = {id} AND {condition} RETURNING {new SqlText("\"id\"")}, {{1}}, {7}");

        Assert.Equal("UPDATE sessions SET state = {0} WHERE id = {1} AND (created_by = {2} AND created_by_type = {3}) RETURNING \"id\", {{1}}, {4}", sql.Format);
        Assert.Equal(new object?[] { "busy", id, "ada", "user", 7 }, sql.GetArguments());
    }

    [Fact]
    public void ANestedConditionWithoutArgumentsAddsOnlyItsText()
    {
        FormattableString always = $"TRUE";

        var sql = ResultColumns.Inline($"SELECT 1 WHERE {always} AND {42} = {42}");

        Assert.Equal("SELECT 1 WHERE TRUE AND {0} = {1}", sql.Format);
        Assert.Equal(new object?[] { 42, 42 }, sql.GetArguments());
    }
}
