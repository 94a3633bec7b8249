using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Raworc.ApiService.Data.Migrations
{
    /// <inheritdoc />
    public partial class WorkItemTraceParent : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "trace_parent",
                table: "work_items",
                type: "character varying(55)",
                maxLength: 55,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "trace_parent",
                table: "work_items");
        }
    }
}
