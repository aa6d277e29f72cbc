using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using VirtTools.Host;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>The virttools executable, run in-process through Program.Run with captured streams, and as a process.</summary>
[Collection(PowerShellCollection.Name)]
public sealed partial class HostExecutableTests
{
    private static readonly string Launcher = Path.Combine(RepositoryPaths.Root, "out", "virttools");

    /// <summary>Output and errors into one writer, as a terminal shows both streams.</summary>
    private static (int Code, string Text) VirttoolsInterleaved(params string[] args)
    {
        var both = new StringWriter();
        var code = Program.Run(args, both, both);
        return (code, both.ToString());
    }

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
    public void Errors_are_printed_where_they_happened_with_category_ErrorId_and_Fix()
    {
        var (code, text) = VirttoolsInterleaved("-c",
            $"'before'; Get-PciDevice -Root '{CapturedFixture.Shared}' 00:09.0; 'between'; Get-Item /no/such/path; 'after'");
        Assert.Equal(1, code);
        var lines = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(new[]
        {
            "before",
            "Get-PciDevice: No PCI function '00:09.0' exists under /sys/bus/pci/devices.",
            "ObjectNotFound: PciDeviceNotFound,VirtTools.Commands.GetPciDeviceCommand",
            "Fix: Run Get-PciDevice to list the functions this host has (lspci -D prints the same addresses).",
            "between",
            "Get-Item: Cannot find path '/no/such/path' because it does not exist.",
            "ObjectNotFound: PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand",
            "after",
        }, lines);
    }

    [Fact]
    public void An_error_that_stops_the_script_comes_after_the_output_it_had_written()
    {
        var (code, text) = VirttoolsInterleaved("-c", "[pscustomobject]@{ Name = 'written' }; throw 'boom'; 'never'");
        Assert.Equal(1, code);
        Assert.Matches(@"(?s)Name\s+-+\s+written\s+boom\s+OperationStopped: boom\s*$", text);
    }

    [Fact]
    public void A_script_may_use_any_variable_name_the_host_uses_itself()
    {
        var (code, text) = VirttoolsInterleaved("-c", "$errors = @(); $script = 'mine'; $parameters = 2; Get-Item /no/such/path; \"$script $parameters\"");
        Assert.Equal(1, code);
        Assert.Matches(@"^Get-Item: Cannot find path '/no/such/path' because it does not exist\.\n.*\nmine 2\n$", text.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void An_error_redirected_into_the_output_is_not_printed_as_one()
    {
        var (code, output, error) = Virttools("-c", "Get-Item /no/such/path 2>&1 | ForEach-Object { $_.GetType().Name }");
        Assert.Equal((0, "ErrorRecord", ""), (code, output.Trim(), error));
    }

    [Fact]
    public void The_default_command_set_is_there_Format_List_Select_Object_ConvertTo_Json()
    {
        var (code, output, error) = Virttools("-c",
            $"Get-PciDevice -Root '{CapturedFixture.Shared}' | Select-Object Address, Driver | ConvertTo-Json");
        Assert.True(code == 0, error);
        var expected = new VirtTools.Pci.PciDeviceReader(new VirtTools.Sysfs.SystemRoot(CapturedFixture.Shared)).GetDevices()
            .Select(d => (d.Address.ToString(), d.Driver)).ToList();
        // ConvertTo-Json writes a value type by its properties: the address arrives as its four numbers.
        var parsed = JsonDocument.Parse(output).RootElement.EnumerateArray()
            .Select(e => (AddressOf(e.GetProperty("Address")), e.GetProperty("Driver").GetString())).ToList();
        Assert.Equal(expected, parsed);

        var (listCode, list, _) = Virttools("-c", $"Get-PciDevice -Root '{CapturedFixture.Shared}' 00:01.0 | Format-List *");
        Assert.Equal(0, listCode);
        Assert.Matches(@"(?m)^Address\s+: 0000:00:01\.0$", list);
        Assert.Matches(@"(?m)^SysfsPath\s+: /sys/devices/", list);
    }

    private static string AddressOf(JsonElement address) => new VirtTools.Pci.PciAddress(address.GetProperty("Domain").GetInt32(),
        address.GetProperty("Bus").GetInt32(), address.GetProperty("Device").GetInt32(), address.GetProperty("Function").GetInt32()).ToString();

    [Fact]
    public void Every_command_a_message_or_Fix_text_names_exists_in_the_host()
    {
        var named = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(path => Regex.Matches(File.ReadAllText(path), "\"[^\"\n]*\"").Select(literal => literal.Value))
            .SelectMany(literal => CommandName().Matches(literal).Select(name => name.Value))
            .Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Contains("Get-Process", named);
        var (code, output, error) = Virttools("-c", $"'{string.Join("','", named)}' | Where-Object {{ -not (Get-Command $_ -ErrorAction Ignore) }}");
        Assert.True(code == 0, error);
        Assert.Equal("", output.Trim());
    }

    [GeneratedRegex(@"\b(?:Get|Set|Remove|Add|New|Start|Stop|Test|Import|Export|Connect|Disconnect|Enable|Disable|Sync|Invoke|Update|Register|Unregister|Select|Sort|Format|Out|ConvertTo|ConvertFrom|Where|ForEach|Measure|Group|Restart|Wait|Clear|Show|Install|Uninstall|Find|Mount|Dismount|Resolve|Write|Read)-[A-Z][A-Za-z]+\b")]
    private static partial Regex CommandName();

    [Fact]
    public void Help_prints_the_cmdlet_help_without_a_pager()
    {
        var (code, output, error) = Virttools("-c", "help Get-UsbDevice");
        Assert.True(code == 0, error);
        Assert.Matches(@"(?m)^NAME\s+Get-UsbDevice\s+SYNOPSIS", output);

        var (fullCode, full, fullError) = Virttools("-c", "Get-Help Get-UsbDevice -Full");
        Assert.True(fullCode == 0, fullError);
        Assert.Contains("-VendorId <String[]>", full);
        Assert.Contains("Accept pipeline input?", full);
    }

    [Fact]
    public void The_built_launcher_runs_the_host_as_a_separate_process()
    {
        var start = new ProcessStartInfo(Launcher, new[] { "-c", "(Get-Command -Module VirtTools).Count -gt 0" })
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000));
        Assert.True(process.ExitCode == 0, error);
        Assert.Equal("True", output.Trim());
    }

    [Theory]
    [InlineData(Signal.SIGINT, 130)]
    [InlineData(Signal.SIGTERM, 143)]
    public async Task A_signal_stops_the_running_pipeline_and_exits_with_128_plus_its_number(Signal signal, int expected)
    {
        // Started with both signals at their default disposition: a test run launched in the background (bash "&")
        // inherits SIGINT ignored, and a process that starts with a signal ignored rightly keeps ignoring it.
        var start = new ProcessStartInfo("env", new[] { "--default-signal=INT,TERM", Launcher, "-c", "Write-Host started; Start-Sleep 600; 'never'" })
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        try
        {
            var error = process.StandardError.ReadToEndAsync();
            Assert.Equal("started", await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120)));
            Assert.Equal(0, Kill(process.Id, (int)signal));
            // Every wait is bounded: a process that ignores the signal fails the test instead of hanging the run.
            var rest = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(process.WaitForExit(30_000), "virttools did not stop");
            Assert.Equal((expected, ""), (process.ExitCode, rest.Trim()));
            Assert.Equal("", await error.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    public enum Signal { SIGINT = 2, SIGTERM = 15 }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
