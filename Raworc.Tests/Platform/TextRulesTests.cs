using Raworc.ApiService.Platform;
using Raworc.ApiService.Sessions;

namespace Raworc.Tests.Platform;

/// <summary>Unit tests of the text and secret-name rules (no app).</summary>
public sealed class TextRulesTests
{
    [Theory]
    [InlineData("plain text", null)]
    [InlineData("", null)]
    [InlineData("emoji \U0001F600 is a surrogate pair", null)]
    [InlineData("a\0b", TextRules.NulProblem)]
    [InlineData("\0", TextRules.NulProblem)]
    public void TextIsStorableUnlessItHoldsNul(string text, string? problem) =>
        Assert.Equal(problem, TextRules.Problem(text));

    // Built at run time: a lone surrogate does not survive an attribute's encoding.
    [Theory]
    [InlineData("before", 0xD800, "after")]
    [InlineData("before", 0xDC00, "after")]
    [InlineData("ends in a high surrogate ", 0xD83D, "")]
    [InlineData("", 0xDFFF, "starts with a low surrogate")]
    public void TextWithAnUnpairedSurrogateIsNotStorable(string before, int surrogate, string after) =>
        Assert.Equal(TextRules.SurrogateProblem, TextRules.Problem(before + (char)surrogate + after));

    [Theory]
    [InlineData("RAWORC_HOST_TOKEN")]
    [InlineData("RAWORC_MODEL_BASE_URL")]
    [InlineData("raworc_host_token")]
    [InlineData("Raworc_Anything")]
    [InlineData("PATH")]
    [InlineData("path")]
    [InlineData("HOME")]
    [InlineData("USER")]
    [InlineData("SHELL")]
    [InlineData("LD_PRELOAD")]
    [InlineData("LD_LIBRARY_PATH")]
    [InlineData("ld_audit")]
    [InlineData("BASH_ENV")]
    [InlineData("ENV")]
    [InlineData("ANTHROPIC_BASE_URL")]
    [InlineData("ANTHROPIC_API_URL")]
    [InlineData("OPENAI_BASE_URL")]
    [InlineData("OPENAI_API_BASE")]
    [InlineData("https_proxy")]
    [InlineData("DOTNET_STARTUP_HOOKS")]
    [InlineData("CORECLR_PROFILER_PATH")]
    public void ReservedSecretNamesAreRefusedInAnyCase(string name) => Assert.True(SessionRules.IsReservedSecretName(name));

    [Theory]
    [InlineData("ANTHROPIC_API_KEY")]
    [InlineData("OPENAI_API_KEY")]
    [InlineData("MY_TOKEN")]
    [InlineData("PATHS")]
    [InlineData("HOMEPAGE")]
    [InlineData("ENVIRONMENT")]
    [InlineData("LDAP_URL")]
    [InlineData("XRAWORC_X")]
    public void OrdinarySecretNamesAndModelKeysAreAllowed(string name) => Assert.False(SessionRules.IsReservedSecretName(name));
}
