using System.Text;
using Raworc.ApiService.Models;

namespace Raworc.Tests.Models;

public sealed class ModelUsageMeterTests
{
    private static ModelUsage Read(string provider, string contentType, string answer, int chunk = 7)
    {
        var meter = new ModelUsageMeter(provider);
        meter.Begin(contentType);
        var bytes = Encoding.UTF8.GetBytes(answer);
        // Small chunks split lines and JSON anywhere, as a network does.
        for (var offset = 0; offset < bytes.Length; offset += chunk)
        {
            meter.Append(bytes.AsSpan(offset, Math.Min(chunk, bytes.Length - offset)));
        }
        return meter.Complete();
    }

    [Fact]
    public void AnthropicJsonUsageIsRead() => Assert.Equal(new ModelUsage(12, 34),
        Read("anthropic", "application/json", """{"type":"message","content":[],"usage":{"input_tokens":12,"output_tokens":34}}"""));

    [Fact]
    public void OpenAIJsonUsageIsRead() => Assert.Equal(new ModelUsage(5, 6),
        Read("openai", "application/json; charset=utf-8", """{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}}"""));

    [Fact]
    public void AnthropicStreamTakesInputFromMessageStartAndTheLastOutputFromMessageDelta() => Assert.Equal(new ModelUsage(40, 9),
        Read("anthropic", "text/event-stream", "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":40,\"output_tokens\":1}}}\r\n\r\n"
            + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"usage\"}}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":4}}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}\n\n"));

    [Fact]
    public void OpenAIStreamReadsTheUsageChunkAndIgnoresNullUsage() => Assert.Equal(new ModelUsage(70, 8),
        Read("openai", "text/event-stream", "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n"
            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":70,\"completion_tokens\":8}}\n\ndata: [DONE]\n\n"));

    [Fact]
    public void AStreamWithoutUsageHasNoFigures() => Assert.Equal(new ModelUsage(null, null),
        Read("openai", "text/event-stream", "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n"));

    [Theory]
    [InlineData("""{"usage":{"input_tokens":-3,"output_tokens":2}}""", null, 2L)]
    [InlineData("""{"usage":{"input_tokens":100000001,"output_tokens":1e3}}""", null, null)]
    [InlineData("""{"usage":{"input_tokens":99999999999999999999999,"output_tokens":"7"}}""", null, null)]
    [InlineData("""{"usage":{"input_tokens":1.5,"output_tokens":true}}""", null, null)]
    [InlineData("""{"usage":[1,2]}""", null, null)]
    [InlineData("""{"usage":{"input_tokens":3,""", null, null)]
    [InlineData("not json at all", null, null)]
    [InlineData("[]", null, null)]
    public void UntrustedFiguresAreIgnored(string answer, long? input, long? output) =>
        Assert.Equal(new ModelUsage(input, output), Read("anthropic", "application/json", answer));

    [Fact]
    public void AnswersOfOtherTypesAreNotRead() => Assert.Equal(new ModelUsage(null, null),
        Read("anthropic", "text/plain", """{"usage":{"input_tokens":3,"output_tokens":4}}"""));

    [Fact]
    public void AJsonAnswerOverTheCapYieldsNoFigures()
    {
        var padding = new string(' ', ModelUsageMeter.MaxJsonBytes);
        Assert.Equal(new ModelUsage(null, null),
            Read("anthropic", "application/json", """{"usage":{"input_tokens":3,"output_tokens":4}}""" + padding, chunk: 1 << 16));
    }

    [Fact]
    public void AnOverlongEventLineIsSkippedAndTheNextOneStillCounts()
    {
        var huge = new string('x', ModelUsageMeter.MaxLineBytes + 10);
        Assert.Equal(new ModelUsage(null, 5), Read("anthropic", "text/event-stream",
            $"data: {{\"type\":\"message_delta\",\"usage\":{{\"output_tokens\":77}},\"pad\":\"{huge}\"}}\n"
            + "data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":5}}\n", chunk: 4096));
    }
}
