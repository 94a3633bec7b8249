using System.Text.Json.Nodes;
using Raworc.HostAgent.Tools;

namespace Raworc.Tests.HostAgent;

/// <summary>The computer tool's screen scaling, action parsing and coordinate checks, without a desktop.</summary>
public sealed class ComputerActionTests
{
    private static readonly ComputerDisplay Anthropic = ComputerDisplay.Parse("1280x800", ComputerDisplay.AnthropicBox)!;
    private static readonly ComputerDisplay OpenAI = ComputerDisplay.Parse("1280x800", ComputerDisplay.OpenAIBox)!;

    [Fact]
    public void ScreenshotsKeepTheScreenSizeForAnthropicAndFitXgaForOpenAI()
    {
        Assert.Equal(new ComputerDisplay(1280, 800, 1280, 800), Anthropic);
        Assert.Equal(new ComputerDisplay(1280, 800, 1024, 640), OpenAI);
        Assert.Equal(new ComputerDisplay(1920, 1080, 1280, 720), ComputerDisplay.Parse("1920x1080", ComputerDisplay.AnthropicBox));
        Assert.Equal(new ComputerDisplay(800, 600, 800, 600), ComputerDisplay.Parse("800x600", ComputerDisplay.OpenAIBox));
        Assert.Null(ComputerDisplay.Parse("", ComputerDisplay.AnthropicBox));
        Assert.Null(ComputerDisplay.Parse("1280x", ComputerDisplay.AnthropicBox));
        Assert.Null(ComputerDisplay.Parse("-5x800", ComputerDisplay.AnthropicBox));
    }

    [Fact]
    public void ScaledCoordinatesMapToScreenPixelsAndBack()
    {
        Assert.Equal((0, 0), OpenAI.ToScreen(0, 0));
        Assert.Equal((640, 400), OpenAI.ToScreen(512, 320));
        Assert.Equal((1279, 799), OpenAI.ToScreen(1023, 639));
        Assert.Equal((512, 320), OpenAI.FromScreen(640, 400));
        Assert.Equal((700, 100), Anthropic.ToScreen(700, 100));
    }

    [Fact]
    public void AClickWithinTheScreenParsesWithItsCoordinateAndModifiers()
    {
        var action = ComputerAction.Parse(Args("""{"action":"left_click","coordinate":[1023,639],"text":"shift"}"""), OpenAI);

        Assert.Equal(new ComputerAction("left_click", (1023, 639), Text: "shift"), action);
        Assert.Equal("left_click (1023, 639) with shift", ComputerTool.Describe(action));
    }

    [Theory]
    [InlineData("""{"action":"left_click","coordinate":[1024,10]}""", "coordinate (1024, 10) is off the screen: x must be 0–1023 and y 0–639.")]
    [InlineData("""{"action":"mouse_move","coordinate":[-1,10]}""", "coordinate (-1, 10) is off the screen: x must be 0–1023 and y 0–639.")]
    [InlineData("""{"action":"left_click_drag","start_coordinate":[0,640],"coordinate":[5,5]}""", "start_coordinate (0, 640) is off the screen: x must be 0–1023 and y 0–639.")]
    [InlineData("""{"action":"zoom","region":[10,10,5,20]}""", "region must have x0 < x1 and y0 < y1.")]
    [InlineData("""{"action":"mouse_move","coordinate":[1,2,3]}""", "coordinate must be [x, y], two integers.")]
    [InlineData("""{"action":"mouse_move","coordinate":["1","2"]}""", "coordinate must be [x, y], two integers.")]
    [InlineData("""{"action":"mouse_move"}""", "mouse_move needs coordinate.")]
    [InlineData("""{"action":"type","text":""}""", "type needs text.")]
    [InlineData("""{"action":"key","text":"ctrl+$(reboot)"}""", "'ctrl+$(reboot)' is not a key: use xdotool key names joined with + (e.g. ctrl+alt+t, Return, shift+Tab), several separated by spaces.")]
    [InlineData("""{"action":"scroll","coordinate":[5,5],"scroll_direction":"sideways"}""", "scroll needs scroll_direction: up, down, left or right.")]
    [InlineData("""{"action":"scroll","scroll_direction":"up","scroll_amount":0}""", "scroll_amount must be 1–50.")]
    [InlineData("""{"action":"wait","duration":61}""", "duration must be 0–60 seconds.")]
    [InlineData("""{"action":"teleport"}""", "Unknown action 'teleport'; use one of screenshot, mouse_move, left_click, right_click, middle_click, double_click, triple_click, left_click_drag, left_mouse_down, left_mouse_up, type, key, hold_key, scroll, wait, cursor_position, zoom.")]
    public void AMalformedOrOffScreenActionIsRefusedWithItsReason(string arguments, string reason)
    {
        var refusal = Assert.Throws<ToolException>(() => ComputerAction.Parse(Args(arguments), OpenAI));
        Assert.Equal(reason, refusal.Message);
    }

    [Fact]
    public void EveryActionOfTheSetParsesFromTheModelsArguments()
    {
        Assert.Equal(new ComputerAction("screenshot"), Parse("""{"action":"screenshot"}"""));
        Assert.Equal(new ComputerAction("key", Text: "ctrl+alt+t Return"), Parse("""{"action":"key","text":" ctrl+alt+t Return "}"""));
        Assert.Equal(new ComputerAction("type", Text: "echo hi\n"), Parse("""{"action":"type","text":"echo hi\n"}"""));
        Assert.Equal(new ComputerAction("left_click_drag", (30, 40), (10, 20)), Parse("""{"action":"left_click_drag","start_coordinate":[10,20],"coordinate":[30,40]}"""));
        Assert.Equal(new ComputerAction("scroll", (5, 6), ScrollDirection: "down", ScrollAmount: 3), Parse("""{"action":"scroll","coordinate":[5,6],"scroll_direction":"down"}"""));
        Assert.Equal(new ComputerAction("wait", Duration: 2.5), Parse("""{"action":"wait","duration":2.5}"""));
        Assert.Equal(new ComputerAction("hold_key", Text: "shift", Duration: 1), Parse("""{"action":"hold_key","text":"shift","duration":1}"""));
        Assert.Equal(new ComputerAction("double_click", (7, 8)), Parse("""{"action":"double_click","coordinate":[7.0,8]}"""));
        var zoom = Parse("""{"action":"zoom","region":[0,0,512,320]}""");
        Assert.Equal([0, 0, 512, 320], zoom.Region!);
        Assert.Equal("cursor_position", Parse("""{"action":"cursor_position"}""").Name);
    }

    private static ComputerAction Parse(string json) => ComputerAction.Parse(Args(json), OpenAI);

    private static JsonObject Args(string json) => JsonNode.Parse(json)!.AsObject();
}
