using System.Diagnostics;
using Xunit;

namespace VirtTools.Tests.Support;

/// <summary>
/// A test that runs in a network namespace of its own (`unshare -n`, which needs root, with `ip` and `sysctl`, IPv6 in
/// the kernel and a writable /proc/sys): skipped, with the reason, on a machine where that is not permitted. Its traffic
/// never leaves that namespace.
/// </summary>
public sealed class NetworkNamespaceFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> WhyNot = new(Probe);

    public NetworkNamespaceFactAttribute()
    {
        if (WhyNot.Value is { } reason) Skip = reason;
    }

    /// <summary>Null when `unshare -n` can make a namespace, bring its lo up and turn its IPv6 off; otherwise why not.</summary>
    private static string? Probe()
    {
        try
        {
            var start = new ProcessStartInfo("unshare") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var argument in new[] { "-n", "sh", "-c", "ip link set lo up && sysctl -q -w net.ipv6.conf.all.disable_ipv6=1" })
                start.ArgumentList.Add(argument);
            using var probe = Process.Start(start)!;
            var said = probe.StandardError.ReadToEndAsync();
            probe.StandardOutput.ReadToEnd();
            if (!probe.WaitForExit(30_000))
            {
                probe.Kill();
                return "unshare -n did not finish within 30 s.";
            }
            return probe.ExitCode == 0 ? null : $"no network namespace here (unshare -n, ip, sysctl as root): {said.Result.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"no network namespace here: unshare cannot run ({e.Message}).";
        }
    }
}
