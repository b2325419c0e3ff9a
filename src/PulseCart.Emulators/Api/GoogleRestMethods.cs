using System.Text.RegularExpressions;

namespace PulseCart.Emulators.Api;

/// <summary>
/// Every REST method of the Google APIs the twins emulate, as Google's discovery documents list them (IAM, locations and
/// other mixins included), so that a method the twin lacks answers 501 UNIMPLEMENTED, as its gRPC port does, rather than
/// a 404 that clients read as a missing resource.
/// </summary>
internal static partial class GoogleRestMethods
{
    private static readonly (string Method, string Template)[] CloudTasksV2 =
    [
        ("GET", "v2/projects/{project}/locations"),
        ("GET", "v2/projects/{project}/locations/{location}"),
        ("GET", "v2/projects/{project}/locations/{location}/cmekConfig"),
        ("PATCH", "v2/projects/{project}/locations/{location}/cmekConfig"),
        ("GET", "v2/projects/{project}/locations/{location}/queues"),
        ("POST", "v2/projects/{project}/locations/{location}/queues"),
        ("GET", "v2/projects/{project}/locations/{location}/queues/{queue}"),
        ("PATCH", "v2/projects/{project}/locations/{location}/queues/{queue}"),
        ("DELETE", "v2/projects/{project}/locations/{location}/queues/{queue}"),
        ("POST", "v2/projects/{project}/locations/{location}/queues/{queue}:purge"),
        ("POST", "v2/projects/{project}/locations/{location}/queues/{queue}:pause"),
        ("POST", "v2/projects/{project}/locations/{location}/queues/{queue}:resume"),
        ("POST", "v2/projects/{project}/locations/{location}/queues/{queue}:getIamPolicy"),
        ("POST", "v2/projects/{project}/locations/{location}/queues/{queue}:setIamPolicy"),
        ("POST", "v2/projects/{project}/locations/{location}/queues/{queue}:testIamPermissions"),
        ("GET", "v2/projects/{project}/locations/{location}/queues/{queue}/tasks"),
        ("POST", "v2/projects/{project}/locations/{location}/queues/{queue}/tasks"),
        ("GET", "v2/projects/{project}/locations/{location}/queues/{queue}/tasks/{task}"),
        ("DELETE", "v2/projects/{project}/locations/{location}/queues/{queue}/tasks/{task}"),
        ("POST", "v2/projects/{project}/locations/{location}/queues/{queue}/tasks/{task}:run"),
        ("POST", "v2/projects/{project}/locations/{location}/queues/{queue}/tasks/{task}:buffer"),
    ];

    private static readonly (string Method, string Template)[] PubSubV1 =
    [
        ("POST", "v1/projects/{project}:testMessageTransforms"),
        ("POST", "v1/projects/{project}:validateMessageTransform"),
        ("GET", "v1/projects/{project}/topics"),
        ("PUT", "v1/projects/{project}/topics/{topic}"),
        ("GET", "v1/projects/{project}/topics/{topic}"),
        ("PATCH", "v1/projects/{project}/topics/{topic}"),
        ("DELETE", "v1/projects/{project}/topics/{topic}"),
        ("POST", "v1/projects/{project}/topics/{topic}:publish"),
        ("GET", "v1/projects/{project}/topics/{topic}/subscriptions"),
        ("GET", "v1/projects/{project}/topics/{topic}/snapshots"),
        ("GET", "v1/projects/{project}/topics/{topic}:getIamPolicy"),
        ("POST", "v1/projects/{project}/topics/{topic}:setIamPolicy"),
        ("POST", "v1/projects/{project}/topics/{topic}:testIamPermissions"),
        ("GET", "v1/projects/{project}/subscriptions"),
        ("PUT", "v1/projects/{project}/subscriptions/{subscription}"),
        ("GET", "v1/projects/{project}/subscriptions/{subscription}"),
        ("PATCH", "v1/projects/{project}/subscriptions/{subscription}"),
        ("DELETE", "v1/projects/{project}/subscriptions/{subscription}"),
        ("POST", "v1/projects/{project}/subscriptions/{subscription}:acknowledge"),
        ("POST", "v1/projects/{project}/subscriptions/{subscription}:modifyAckDeadline"),
        ("POST", "v1/projects/{project}/subscriptions/{subscription}:modifyPushConfig"),
        ("POST", "v1/projects/{project}/subscriptions/{subscription}:pull"),
        ("POST", "v1/projects/{project}/subscriptions/{subscription}:seek"),
        ("POST", "v1/projects/{project}/subscriptions/{subscription}:detach"),
        ("GET", "v1/projects/{project}/subscriptions/{subscription}:getIamPolicy"),
        ("POST", "v1/projects/{project}/subscriptions/{subscription}:setIamPolicy"),
        ("POST", "v1/projects/{project}/subscriptions/{subscription}:testIamPermissions"),
        ("GET", "v1/projects/{project}/snapshots"),
        ("PUT", "v1/projects/{project}/snapshots/{snapshot}"),
        ("GET", "v1/projects/{project}/snapshots/{snapshot}"),
        ("PATCH", "v1/projects/{project}/snapshots/{snapshot}"),
        ("DELETE", "v1/projects/{project}/snapshots/{snapshot}"),
        ("GET", "v1/projects/{project}/snapshots/{snapshot}:getIamPolicy"),
        ("POST", "v1/projects/{project}/snapshots/{snapshot}:setIamPolicy"),
        ("POST", "v1/projects/{project}/snapshots/{snapshot}:testIamPermissions"),
        ("GET", "v1/projects/{project}/schemas"),
        ("POST", "v1/projects/{project}/schemas"),
        ("POST", "v1/projects/{project}/schemas:validate"),
        ("POST", "v1/projects/{project}/schemas:validateMessage"),
        ("GET", "v1/projects/{project}/schemas/{schema}"),
        ("DELETE", "v1/projects/{project}/schemas/{schema}"),
        ("POST", "v1/projects/{project}/schemas/{schema}:commit"),
        ("POST", "v1/projects/{project}/schemas/{schema}:rollback"),
        ("GET", "v1/projects/{project}/schemas/{schema}:listRevisions"),
        ("DELETE", "v1/projects/{project}/schemas/{schema}:deleteRevision"),
        ("GET", "v1/projects/{project}/schemas/{schema}:getIamPolicy"),
        ("POST", "v1/projects/{project}/schemas/{schema}:setIamPolicy"),
        ("POST", "v1/projects/{project}/schemas/{schema}:testIamPermissions"),
    ];

    /// <summary>
    /// The methods of the Google API that <paramref name="served"/> belongs to which it leaves out, each answering 501
    /// UNIMPLEMENTED. The API is recognised by the methods themselves, so a twin needs no setting for it.
    /// </summary>
    public static IEnumerable<RestMethod> NotServed(IReadOnlyList<RestMethod> served, string apiName)
    {
        var servedShapes = served.Select(method => (method.Method, Shape(method.Template))).ToHashSet();
        var api = new[] { CloudTasksV2, PubSubV1 }.FirstOrDefault(candidate => candidate.Any(method => servedShapes.Contains((method.Method, Shape(method.Template))))) ?? [];
        return api
            .Where(method => !servedShapes.Contains((method.Method, Shape(method.Template))))
            .Select(method => new RestMethod(method.Method, method.Template, call => throw ApiException.Unimplemented(
                $"{call.Http.Request.Method} {call.Http.Request.Path} is a method of Google's {apiName} API that the {apiName} twin does not implement.")));
    }

    // Placeholder names differ between tables ({queue} or {queuesId}); only where they stand matters.
    private static string Shape(string template) => Placeholder().Replace(template, "*");

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Placeholder();
}
