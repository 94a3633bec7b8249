namespace Raworc.Tests.Infrastructure;

/// <summary>
/// The API-only system pointed at "another" Docker engine: <c>Computers:DockerEndpoint</c> is an <see cref="EngineProxy"/>
/// in front of the local engine, so a test can see what talks to the engine the API was given.
/// </summary>
public sealed class EngineProxyAppFixture : RaworcAppFixture
{
    private EngineProxy? _engine;

    /// <summary>The engine address the API was given.</summary>
    public EngineProxy Engine => _engine ?? throw new InvalidOperationException("Not started.");

    protected override Task BeforeStartAsync()
    {
        _engine = EngineProxy.Start();
        return Task.CompletedTask;
    }

    protected override IReadOnlyDictionary<string, string> ApiEnvironment => new Dictionary<string, string>
    {
        ["Computers__DockerEndpoint"] = Engine.Endpoint,
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }
}

/// <summary>The test of the engine setting's reach has its own system.</summary>
[CollectionDefinition(Name)]
public sealed class EngineProxyAppCollection : ICollectionFixture<EngineProxyAppFixture>
{
    public const string Name = "Raworc app on another engine address";
}
