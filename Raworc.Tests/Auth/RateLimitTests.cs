using System.Diagnostics;
using System.Net;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Raworc.ApiService.Auth;
using Raworc.Tests.Infrastructure;
using StackExchange.Redis;

namespace Raworc.Tests.Auth;

/// <summary>Failed logins are limited per name and per address; every principal has its own bucket of requests.</summary>
[Collection(RateLimitAppCollection.Name)]
public sealed class RateLimitTests(RateLimitAppFixture fixture)
{
    // The one test of this collection that logs in: once it has run, this address may not log in for the window. The
    // other tests use tokens that need no login.
    [Fact]
    public async Task FailedLoginsAreLimitedPerNameAndThenPerAddress()
    {
        var (alice, aliceClient) = await fixture.CreateOperatorAsync("rl-alice");
        var (bob, bobClient) = await fixture.CreateOperatorAsync("rl-bob");
        aliceClient.Dispose();
        bobClient.Dispose();
        using var anonymous = fixture.CreateApiClient();
        Task<HttpResponseMessage> LoginAsync(string user, string pass) =>
            anonymous.PostAsync($"/api/v0/operators/{user}/login", Http.Json(new { pass }));
        async Task AssertLimitedAsync(HttpResponseMessage response)
        {
            var error = await response.AssertErrorAsync(429, "RATE_LIMITED");
            Assert.Equal("Too many failed logins for this operator or from this address; try again later.", (string?)error["message"]);
            Assert.Equal([RateLimitAppFixture.LoginWindowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                response.Headers.GetValues("Retry-After"));
        }

        // Three times the limit at once: exactly the limit are tried (401), the rest refused (429), not whatever was in flight.
        var burst = await Task.WhenAll(Enumerable.Range(0, 3 * RateLimitAppFixture.LoginFailuresPerName)
            .Select(_ => LoginAsync(alice, "wrong-password")));
        Assert.Equal(RateLimitAppFixture.LoginFailuresPerName, burst.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
        Assert.Equal(2 * RateLimitAppFixture.LoginFailuresPerName, burst.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        foreach (var refused in burst.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests))
        {
            await AssertLimitedAsync(refused);
        }
        await AssertLimitedAsync(await LoginAsync(alice, "wrong-password"));
        // Refused whatever the password until the window ends.
        await AssertLimitedAsync(await LoginAsync(alice, "operator-pass-1"));

        // Another name from the same address is not refused: its own count is untouched, the address's is under its limit.
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(bob, "operator-pass-1")).StatusCode);
        // Names that name no operator count against the address as well.
        for (var i = RateLimitAppFixture.LoginFailuresPerName; i < RateLimitAppFixture.LoginFailuresPerAddress; i++)
        {
            await (await LoginAsync($"rl-nobody-{i}", "wrong-password")).AssertErrorAsync(401, "UNAUTHORIZED");
        }
        await AssertLimitedAsync(await LoginAsync(bob, "operator-pass-1"));
        await AssertLimitedAsync(await anonymous.PostAsync("/api/v0/auth/login", Http.Json(new { user = bob, pass = "operator-pass-1" })));
    }

    // The throttles below are built here over the fixture's Redis, as two replicas would be; they count names of their own,
    // and their address is never limited, so they touch no counter of the logins above.
    private static readonly IPAddress Elsewhere = IPAddress.Parse("203.0.113.7");

    private static LoginThrottle Throttle(IConnectionMultiplexer redis) => new(
        Options.Create(new RateLimitOptions { LoginFailuresPerName = RateLimitAppFixture.LoginFailuresPerName, LoginFailuresPerAddress = 0, LoginWindowSeconds = 600 }),
        redis, NullLogger<LoginThrottle>.Instance);

    private async Task<ConnectionMultiplexer> ConnectRedisAsync() =>
        await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync(ResourceNames.Redis))!);

    // Begins a login and, when it may be tried, fails it after a password check's time (PBKDF2 takes tens of ms), during
    // which the other throttle's logins go on; true when it was tried.
    private static async Task<bool> FailedLoginAsync(LoginThrottle throttle, string name)
    {
        using var attempt = await throttle.BeginAsync(name, Elsewhere, CancellationToken.None);
        if (attempt.RetryAfter is not null)
        {
            return false;
        }
        await Task.Delay(TimeSpan.FromMilliseconds(50));
        attempt.Fail();
        return true;
    }

    [Fact]
    public async Task ThreeProcessesCountFailedLoginsOfANameTogetherEvenWhenTheyArriveAtOnce()
    {
        // Three, not two: counts that were checked at the start and raised at the failure would rise in steps of three
        // (0, 3, 6, 9) and pass the limit of 10, where two in step would land on it exactly.
        var connections = new List<ConnectionMultiplexer>();
        for (var i = 0; i < 3; i++)
        {
            connections.Add(await ConnectRedisAsync());
        }
        var throttles = connections.Select(Throttle).ToArray();
        var name = $"rl-shared-{Guid.NewGuid():N}";
        try
        {
            // A login that does not fail gives its place back: these leave the count at 0.
            for (var i = 0; i < 2 * RateLimitAppFixture.LoginFailuresPerName; i++)
            {
                using var succeeded = await throttles[i % 3].BeginAsync(name, Elsewhere, CancellationToken.None);
                Assert.Null(succeeded.RetryAfter);
            }
            // Three times the limit at once, a third through each: exactly the limit are tried.
            var tried = await Task.WhenAll(Enumerable.Range(0, 3 * RateLimitAppFixture.LoginFailuresPerName)
                .Select(i => Task.Run(() => FailedLoginAsync(throttles[i % 3], name))));
            Assert.Equal(RateLimitAppFixture.LoginFailuresPerName, tried.Count(t => t));
            foreach (var throttle in throttles)
            {
                using var refused = await throttle.BeginAsync(name, Elsewhere, CancellationToken.None);
                Assert.Equal(TimeSpan.FromSeconds(600), refused.RetryAfter);
            }
        }
        finally
        {
            foreach (var throttle in throttles)
            {
                throttle.Dispose();
            }
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task WhenRedisIsGoneOneProcessStillCountsEveryFailedLoginItSawAndRefusesPastTheLimit()
    {
        var redis = await ConnectRedisAsync();
        using var throttle = Throttle(redis);
        var name = $"rl-alone-{Guid.NewGuid():N}";
        const int WithRedis = 4;
        for (var i = 0; i < WithRedis; i++)
        {
            Assert.True(await FailedLoginAsync(throttle, name));
        }

        // Redis goes away: logins are not refused for it (fail open), the process's own count goes on from what it saw.
        await redis.CloseAsync();
        await redis.DisposeAsync();
        for (var i = WithRedis; i < RateLimitAppFixture.LoginFailuresPerName; i++)
        {
            Assert.True(await FailedLoginAsync(throttle, name));
        }
        using (var refused = await throttle.BeginAsync(name, Elsewhere, CancellationToken.None))
        {
            Assert.Equal(TimeSpan.FromSeconds(600), refused.RetryAfter);
        }
        // Another name is not refused.
        using var other = await throttle.BeginAsync($"rl-other-{Guid.NewGuid():N}", Elsewhere, CancellationToken.None);
        Assert.Null(other.RetryAfter);
    }

    [Fact]
    public async Task APrincipalOverItsRequestLimitIsRefusedAndOthersAreNot()
    {
        using var busy = fixture.CreateApiClient(TokenForgery.Create(RaworcAppFixture.JwtSigningKey, subject: $"rl-busy-{Guid.NewGuid():N}", type: "User"));
        using var calm = fixture.CreateApiClient(TokenForgery.Create(RaworcAppFixture.JwtSigningKey, subject: $"rl-calm-{Guid.NewGuid():N}", type: "User"));

        await AssertLimitedAfterBurstAsync(busy, "/api/v0/auth");
        Assert.Equal(HttpStatusCode.OK, (await calm.GetAsync("/api/v0/auth")).StatusCode);
    }

    [Fact]
    public async Task ASessionsHostHasItsOwnBucket()
    {
        // The admin's token is made here, not by a login, which FailedLoginsAreLimitedPerNameAndThenPerAddress may have
        // refused to this address already.
        var adminId = (await fixture.QueryAsync<Guid>("SELECT id FROM operators WHERE name = 'admin'")).Single();
        using var admin = fixture.CreateApiClient(TokenForgery.Create(RaworcAppFixture.JwtSigningKey, subject: "admin",
            extra: new Dictionary<string, object> { ["oid"] = adminId.ToString() }));
        var created = await admin.PostAsync("/api/v0/sessions", Http.Json(new { }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = Guid.Parse((string)(await created.ReadObjectAsync())["id"]!);
        using var host = fixture.CreateHostClient(id);

        await AssertLimitedAfterBurstAsync(host, $"/api/v0/sessions/{id}");
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v0/sessions/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v0/sessions/{id}")).StatusCode);
    }

    // Sends GETs until the first 429: the whole bucket is served first, then the refusal comes in the envelope.
    private static async Task AssertLimitedAfterBurstAsync(HttpClient client, string path)
    {
        var clock = Stopwatch.StartNew();
        var served = 0;
        HttpResponseMessage? refused = null;
        while (refused is null && served < RateLimitAppFixture.RequestBurst * 10)
        {
            var response = await client.GetAsync(path);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                served++;
            }
        }
        // The whole bucket, plus at most one request for each second the loop took (the bucket refills 1 per second).
        Assert.InRange(served, RateLimitAppFixture.RequestBurst, RateLimitAppFixture.RequestBurst + (int)Math.Ceiling(clock.Elapsed.TotalSeconds));
        Assert.NotNull(refused);
        var error = await refused.AssertErrorAsync(429, "RATE_LIMITED");
        Assert.Equal("Too many requests for this principal; slow down.", (string?)error["message"]);
        Assert.Equal(["1"], refused.Headers.GetValues("Retry-After"));
    }
}
