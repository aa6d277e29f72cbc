using System.Globalization;

namespace VirtTools.UsbIp.Host;

/// <summary>
/// When a process started, in clock ticks after boot: field 22 of /proc/PID/stat. With its PID it names one process
/// for the machine's uptime; a PID alone may be handed to a newer process once the first has died.
/// </summary>
public static class ProcessStartTime
{
    /// <summary>Of the live process <paramref name="pid"/>; null when there is none (or its stat cannot be read).</summary>
    public static long? Of(int pid)
    {
        try
        {
            return Parse(File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Field 22 of a stat line; null when the line has no such field.</summary>
    public static long? Parse(string stat)
    {
        // The command name (field 2) is in parentheses and may itself hold spaces and ')': fields 3 on follow the last ')'.
        var end = stat.LastIndexOf(')');
        if (end < 0) return null;
        var fields = stat[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        const int StartTimeIndex = 22 - 3;
        return fields.Length > StartTimeIndex && long.TryParse(fields[StartTimeIndex], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }
}
