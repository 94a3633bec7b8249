namespace Raworc.AppHost.SessionComputers;

/// <summary>
/// A session's computer (the container <c>raworc-session-&lt;id&gt;</c>) as a dashboard resource, a child of the API that
/// made it. Not declared in the app model: <see cref="SessionComputerWatcher"/> creates one when the engine reports the
/// container and publishes its state through <see cref="ResourceNotificationService"/>, which is all the dashboard reads.
/// </summary>
/// <param name="name">The container's name, which is also the resource's name and id.</param>
/// <param name="parent">The API resource.</param>
internal sealed class SessionComputerResource(string name, IResource parent) : Resource(name), IResourceWithParent
{
    /// <inheritdoc />
    public IResource Parent { get; } = parent;
}
