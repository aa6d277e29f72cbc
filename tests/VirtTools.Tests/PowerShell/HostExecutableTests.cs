using VirtTools.Host;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>The virttools executable, run in-process through Program.Run with captured streams.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class HostExecutableTests
{
    private static (int Code, string Output, string Error) Virttools(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Command_runs_a_pipeline_with_the_module_imported_and_renders_its_output()
    {
        var (code, output, error) = Virttools("-c", "(Get-Module VirtTools).Name");
        Assert.Equal(0, code);
        Assert.Equal("VirtTools", output.Trim());
        Assert.Equal("", error);
    }

    [Fact]
    public void A_pipeline_that_writes_an_error_exits_non_zero_and_prints_the_error_id()
    {
        var (code, _, error) = Virttools("-c", "Get-Command Get-NoSuchThing; 'after'");
        Assert.Equal(1, code);
        Assert.Contains("CommandNotFoundException", error);
    }

    [Fact]
    public void A_terminating_error_exits_non_zero()
    {
        var (code, _, error) = Virttools("-c", "throw 'boom'");
        Assert.Equal(1, code);
        Assert.Contains("boom", error);
    }

    [Fact]
    public void File_runs_a_script_with_its_arguments()
    {
        using var tree = new TemporaryTree("script");
        tree.File("/s.ps1", "param($a, $b) \"$a+$b\"");
        var (code, output, _) = Virttools("-f", tree.Resolve("/s.ps1"), "one", "two");
        Assert.Equal(0, code);
        Assert.Equal("one+two", output.Trim());
    }

    [Fact]
    public void Exit_in_a_script_sets_the_exit_code()
    {
        Assert.Equal(7, Virttools("-c", "exit 7").Code);
    }

    [Fact]
    public void Unknown_commands_and_missing_arguments_are_usage_errors()
    {
        Assert.Equal(2, Virttools("frobnicate").Code);
        Assert.Equal(2, Virttools("-c").Code);
        Assert.Equal(2, Virttools("-f", "/nonexistent/script.ps1").Code);
    }

    [Fact]
    public void The_built_launcher_runs_the_host_as_a_separate_process()
    {
        var launcher = Path.Combine(RepositoryPaths.Root, "out", "virttools");
        var start = new System.Diagnostics.ProcessStartInfo(launcher, new[] { "-c", "(Get-Command -Module VirtTools).Count -gt 0" })
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000));
        Assert.True(process.ExitCode == 0, error);
        Assert.Equal("True", output.Trim());
    }
}
