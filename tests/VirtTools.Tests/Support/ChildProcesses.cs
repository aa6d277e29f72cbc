using System.Diagnostics;
using System.Globalization;

namespace VirtTools.Tests.Support;

/// <summary>What the tests that drive a real virttools process (agent, daemon) share: bounded waits and signals.</summary>
internal static class ChildProcesses
{
    /// <summary>Polls until the condition holds or 30 s pass (a loaded CI machine is slow); the last look decides.</summary>
    public static bool WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            Thread.Sleep(50);
        }
        return condition();
    }

    /// <summary>Sends a signal by name ("HUP", "TERM") as kill(1) does.</summary>
    public static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", new[] { "-" + signal, process.Id.ToString(CultureInfo.InvariantCulture) })!;
        kill.WaitForExit();
    }
}
