namespace Raworc.HostAgent.Tools;

/// <summary>A tool refused or failed a command; the message is written for the model and shown to the user.</summary>
/// <param name="message">A readable reason, e.g. "The path '../etc' is outside /session."</param>
public sealed class ToolException(string message) : Exception(message);
