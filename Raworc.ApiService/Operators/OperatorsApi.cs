using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Raworc.ApiService.Auth;
using Raworc.ApiService.Errors;
using Raworc.ApiService.Platform;
using Raworc.ApiService.Redis;
using Raworc.ApiService.Sessions;
using Raworc.ApiService.Work;

namespace Raworc.ApiService.Operators;

/// <summary>
/// <c>/api/v0/operators</c>: admin only, except that any operator may read itself, change its own
/// password and revoke its own tokens (spec/API.md "Operators").
/// </summary>
public static class OperatorsApi
{
    /// <summary>Maps the operator endpoints.</summary>
    public static IEndpointRouteBuilder MapOperatorsApi(this IEndpointRouteBuilder routes)
    {
        // 403: not an admin (the admin routes), or a Host token (every route).
        var admin = routes.MapGroup("/api/v0/operators").WithTags("Operators").RequireAuthorization(AuthExtensions.AdminPolicy)
            .ProducesErrors(ErrorMetadata.Authenticated).ProducesErrors(403);
        admin.MapGet("/", ListAsync).WithName("ListOperators").ProducesErrors(400);
        admin.MapPost("/", CreateAsync).WithName("CreateOperator").ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(409, 422);
        admin.MapPut("/{name}", UpdateAsync).WithName("UpdateOperator").ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(404, 409, 422);
        admin.MapDelete("/{name}", DeleteAsync).WithName("DeleteOperator").ProducesErrors(400, 404, 409);

        var self = routes.MapGroup("/api/v0/operators").WithTags("Operators").RequireAuthorization(AuthExtensions.PersonPolicy)
            .ProducesErrors(ErrorMetadata.Authenticated).ProducesErrors(403, 404);
        self.MapGet("/{name}", GetAsync).WithName("GetOperator");
        // 401 also when an operator's current password is wrong.
        self.MapPut("/{name}/password", ChangePasswordAsync).WithName("ChangeOperatorPassword")
            .ProducesErrors(ErrorMetadata.JsonBody).ProducesErrors(422);
        self.MapPost("/{name}/revoke", RevokeTokensAsync).WithName("RevokeOperatorTokens");
        return routes;
    }

    /// <summary><c>GET /operators</c>: oldest first, paginated.</summary>
    public static async Task<Ok<List<OperatorResponse>>> ListAsync(
        [AsParameters] PageRequest page, RaworcDbContext db, HttpResponse response, CancellationToken cancellationToken) =>
        TypedResults.Ok(await db.Operators.AsNoTracking().OrderBy(o => o.CreatedAt).ThenBy(o => o.Name)
            .PageAsync(page, response, OperatorResponse.Project, cancellationToken));

    /// <summary><c>POST /operators</c> → 201 with <c>Location</c>; 409 when the name exists.</summary>
    public static async Task<Results<Created<OperatorResponse>, Conflict<ErrorResponse>, UnprocessableEntity<ErrorResponse>>> CreateAsync(
        CreateOperatorRequest body, RaworcDbContext db, IPasswordHasher<Operator> hasher, TimeProvider clock, CancellationToken cancellationToken)
    {
        var validation = new Validation().CheckName(body.User).CheckPassword("pass", body.Pass).CheckDescription(body.Description);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }

        var now = clock.GetUtcNow();
        var account = Operator.Create(body.User!, body.Pass!, body.Admin ?? false, body.Description, hasher, now);
        db.Operators.Add(account);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return ApiErrors.Conflict($"An operator named '{body.User}' already exists.");
        }
        return TypedResults.Created($"/api/v0/operators/{account.Name}", OperatorResponse.From(account));
    }

    /// <summary><c>GET /operators/{name}</c>: an admin reads anyone, an operator itself.</summary>
    public static async Task<Results<Ok<OperatorResponse>, NotFound<ErrorResponse>, JsonHttpResult<ErrorResponse>>> GetAsync(
        string name, ClaimsPrincipal caller, RaworcDbContext db, CancellationToken cancellationToken)
    {
        if (!caller.IsAdmin() && !IsSelf(caller, name))
        {
            return ApiErrors.Forbidden("Only admins can read other operators.");
        }
        var found = await db.Operators.AsNoTracking().Where(o => o.Name == name)
            .Select(OperatorResponse.Project).FirstOrDefaultAsync(cancellationToken);
        return found is null ? ApiErrors.NotFound($"No operator named '{name}'.") : TypedResults.Ok(found);
    }

    /// <summary><c>PUT /operators/{name}</c>: description, active and admin flags; the last active admin stays one.</summary>
    public static async Task<Results<Ok<OperatorResponse>, NotFound<ErrorResponse>, Conflict<ErrorResponse>, UnprocessableEntity<ErrorResponse>>> UpdateAsync(
        string name, UpdateOperatorRequest body, RaworcDbContext db, PrincipalCache principals, TimeProvider clock, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .When(body is { Description: null, Active: null, Admin: null }, "body", "must set at least one of description, active, admin")
            .CheckDescription(body.Description);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockAdminsAsync(cancellationToken);
        var account = await db.Operators.FirstOrDefaultAsync(o => o.Name == name, cancellationToken);
        if (account is null)
        {
            return ApiErrors.NotFound($"No operator named '{name}'.");
        }
        var staysActiveAdmin = (body.Admin ?? account.IsAdmin) && (body.Active ?? account.IsActive);
        if (account is { IsAdmin: true, IsActive: true } && !staysActiveAdmin && !await db.OtherActiveAdminExistsAsync(account.Id, cancellationToken))
        {
            return ApiErrors.Conflict($"'{name}' is the last active admin; it cannot be demoted or deactivated.");
        }

        account.Description = body.Description ?? account.Description;
        account.IsActive = body.Active ?? account.IsActive;
        account.IsAdmin = body.Admin ?? account.IsAdmin;
        account.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        principals.Invalidate(account.Id);
        return TypedResults.Ok(OperatorResponse.From(account));
    }

    /// <summary>
    /// <c>DELETE /operators/{name}</c> → 204: the operator and every session it owns (rows and messages now, computers
    /// and volumes through the delete work). 409 while it owns live sessions unless <c>close_sessions=true</c>, and for the
    /// last active admin.
    /// </summary>
    public static async Task<Results<NoContent, NotFound<ErrorResponse>, Conflict<ErrorResponse>>> DeleteAsync(
        string name, [FromQuery(Name = "close_sessions")] bool? closeSessions, RaworcDbContext db, WorkQueue work,
        RedisStore presence, PrincipalCache principals, CancellationToken cancellationToken)
    {
        List<Guid> owned;
        Guid deleted;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await db.LockAdminsAsync(cancellationToken);
            // FOR UPDATE: a session being created for this operator (whose insert checks the key) waits for this
            // transaction and then fails, so none is created between the count below and the delete.
            var account = await db.Operators.FromSql($"SELECT * FROM operators WHERE name = {name} FOR UPDATE")
                .FirstOrDefaultAsync(cancellationToken);
            if (account is null)
            {
                return ApiErrors.NotFound($"No operator named '{name}'.");
            }
            if (account is { IsAdmin: true, IsActive: true } && !await db.OtherActiveAdminExistsAsync(account.Id, cancellationToken))
            {
                return ApiErrors.Conflict($"'{name}' is the last active admin; it cannot be deleted.");
            }
            var live = await db.Sessions.CountAsync(
                s => s.CreatedByOperatorId == account.Id && SessionQuotas.LiveStates.Contains(s.State), cancellationToken);
            if (live > 0 && closeSessions != true)
            {
                return ApiErrors.Conflict($"'{name}' owns {live} live session(s); close them first, or delete with " +
                    "close_sessions=true to close them and delete them with the operator.");
            }

            owned = await db.Sessions.Where(s => s.CreatedByOperatorId == account.Id).Select(s => s.Id).ToListAsync(cancellationToken);
            await db.DeleteSessionsAsync(work, owned, cancellationToken);
            db.Operators.Remove(account);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            deleted = account.Id;
        }
        principals.Invalidate(deleted);
        SessionsApi.AfterDelete(presence, work, owned);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// <c>PUT /operators/{name}/password</c>: an operator changes its own password with the right current one
    /// (401 otherwise); an admin changes another operator's without it.
    /// </summary>
    public static async Task<Results<Ok<OperatorResponse>, NotFound<ErrorResponse>, JsonHttpResult<ErrorResponse>, UnprocessableEntity<ErrorResponse>>> ChangePasswordAsync(
        string name, ChangePasswordRequest body, ClaimsPrincipal caller, RaworcDbContext db,
        IPasswordHasher<Operator> hasher, PrincipalCache principals, TimeProvider clock, CancellationToken cancellationToken)
    {
        var self = IsSelf(caller, name);
        if (!self && !caller.IsAdmin())
        {
            return ApiErrors.Forbidden("Only admins can change other operators' passwords.");
        }
        var validation = new Validation()
            .When(self && string.IsNullOrEmpty(body.CurrentPassword), "current_password", "is required")
            .CheckPassword("new_password", body.NewPassword);
        if (!validation.IsValid)
        {
            return validation.ToResult();
        }

        var account = await db.Operators.FirstOrDefaultAsync(o => o.Name == name, cancellationToken);
        if (account is null)
        {
            return ApiErrors.NotFound($"No operator named '{name}'.");
        }
        if (self && hasher.VerifyHashedPassword(account, account.PasswordHash, body.CurrentPassword!) == PasswordVerificationResult.Failed)
        {
            return ApiErrors.Unauthorized("The current password is wrong.");
        }
        // One statement that also raises the token generation (not a read-modify-write), so every token issued
        // before it, including one a concurrent login issued, is refused from now on.
        var (hash, now) = (hasher.HashPassword(account, body.NewPassword!), clock.GetUtcNow());
        await db.Operators.Where(o => o.Id == account.Id).ExecuteUpdateAsync(set => set
            .SetProperty(o => o.PasswordHash, hash).SetProperty(o => o.UpdatedAt, now)
            .SetProperty(o => o.TokenGeneration, o => o.TokenGeneration + 1), cancellationToken);
        principals.Invalidate(account.Id);
        (account.PasswordHash, account.UpdatedAt) = (hash, now);
        return TypedResults.Ok(OperatorResponse.From(account));
    }

    /// <summary>
    /// <c>POST /operators/{name}/revoke</c> → 204: "log out everywhere". Every token of the operator issued before
    /// it is refused from now on (its token generation is raised); an admin revokes anyone's, an operator its own.
    /// </summary>
    public static async Task<Results<NoContent, NotFound<ErrorResponse>, JsonHttpResult<ErrorResponse>>> RevokeTokensAsync(
        string name, ClaimsPrincipal caller, RaworcDbContext db, PrincipalCache principals, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!caller.IsAdmin() && !IsSelf(caller, name))
        {
            return ApiErrors.Forbidden("Only admins can revoke other operators' tokens.");
        }
        if (await db.Operators.Where(o => o.Name == name).Select(o => (Guid?)o.Id).FirstOrDefaultAsync(cancellationToken) is not { } id)
        {
            return ApiErrors.NotFound($"No operator named '{name}'.");
        }
        var now = clock.GetUtcNow();
        var changed = await db.Operators.Where(o => o.Id == id).ExecuteUpdateAsync(set => set
            .SetProperty(o => o.TokenGeneration, o => o.TokenGeneration + 1).SetProperty(o => o.UpdatedAt, now), cancellationToken);
        principals.Invalidate(id);
        return changed == 0 ? ApiErrors.NotFound($"No operator named '{name}'.") : TypedResults.NoContent();
    }

    private static bool IsSelf(ClaimsPrincipal caller, string name) =>
        caller.Type() == PrincipalTypes.Operator && caller.Name() == name;
}
