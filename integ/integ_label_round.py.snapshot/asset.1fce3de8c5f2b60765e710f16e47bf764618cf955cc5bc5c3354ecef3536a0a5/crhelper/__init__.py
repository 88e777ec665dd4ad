from crhelper.resource_helper import CfnResource, SUCCESS, FAILED
