using System.Diagnostics;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Client;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>`virttools usbipd` as systemd runs it: a foreground process, logs on stderr, SIGTERM stops it cleanly.</summary>
public sealed class UsbIpDaemonTests
{
    [Fact]
    public async Task Usbipd_serves_the_root_logs_to_stderr_and_stops_cleanly_on_SIGTERM()
    {
        var start = new ProcessStartInfo(Path.Combine(RepositoryPaths.Root, "out", "virttools")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "usbipd", "--address", "127.0.0.1", "--port", "0", "--allow", "127.0.0.1", "--root", CapturedFixture.Shared })
            start.ArgumentList.Add(argument);
        using var daemon = Process.Start(start)!;
        var stderr = daemon.StandardError.ReadToEndAsync();
        try
        {
            var ready = await daemon.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.StartsWith("virttools usbipd: listening on port ", ready);
            var port = int.Parse(ready!.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
            // The capture shows 2-3 in use, so the list is empty, as usbipd would answer.
            Assert.Empty(await UsbIpClient.ListDevicesAsync("127.0.0.1", port, TimeSpan.FromSeconds(10)));

            using (var kill = Process.Start("kill", new[] { "-TERM", daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) })) await kill.WaitForExitAsync();
            await daemon.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(0, daemon.ExitCode);
            var log = await stderr;
            Assert.Contains("listening on 127.0.0.1:", log);
            Assert.Contains("stopped after 1 connections", log);
        }
        finally
        {
            if (!daemon.HasExited) daemon.Kill();
        }
    }

    [Fact]
    public void Usbipd_with_a_bad_option_prints_its_usage_and_exits_2()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(2, VirtTools.Host.Program.Run(new[] { "usbipd", "--allow", "nonsense" }, output, error));
        Assert.Contains("usage: virttools usbipd", error.ToString());
    }

    [Theory]
    [InlineData("UsbIpTlsRequired", "--require-tls")]
    [InlineData("UsbIpTlsRequired", "--tls-certificate", "server.crt")]
    [InlineData("UsbIpGrantInvalid", "--tls-certificate", "s.crt", "--tls-key", "s.key", "--grant", "desk=*")]
    [InlineData("UsbIpGrantInvalid", "--tls-certificate", "s.crt", "--tls-key", "s.key", "--client-ca", "ca.crt", "--grant", "desk")]
    public void Usbipd_refuses_TLS_options_that_cannot_work_before_it_listens(string errorId, params string[] options)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(2, VirtTools.Host.Program.Run(new[] { "usbipd", "--port", "0" }.Concat(options).ToArray(), output, error));
        Assert.Contains($"[{errorId}]", error.ToString());
        Assert.Empty(output.ToString());
    }
}
